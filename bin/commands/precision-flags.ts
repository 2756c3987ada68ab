import { Flags } from '@oclif/core';
import type { StudentPrecision } from '../../core/inference/student-folder.js';

/**
 * `--precision` and its shorthand `--quantized`, shared by the commands that load a student: left
 * out, the folder's own choice (`distill-precision.json`, written at export), else fp32.
 */
export const precisionFlags = {
  precision: Flags.string({
    description:
      "Which exported graphs to run: fp32, or the int8 graphs of `distill export --quantize` (default: the folder's distill-precision.json, else fp32).",
    options: ['fp32', 'int8'],
    exclusive: ['quantized'],
  }),
  quantized: Flags.boolean({ description: 'The int8 graphs: the same as --precision int8.', default: false }),
};

/** The precision the flags ask for; undefined leaves it to the folder. */
export function requestedPrecision(flags: { precision?: string; quantized: boolean }): StudentPrecision | undefined {
  if (flags.quantized) return 'int8';
  return flags.precision === 'fp32' || flags.precision === 'int8' ? flags.precision : undefined;
}
