import { lstatSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { readTextFileNoFollow } from './no-follow-files.js';

/** Where a parsed file breaks its format: a JSON pointer (`''` for the whole) and what is wrong there. */
export interface JsonFileProblem {
  readonly pointer: string;
  readonly message: string;
}

/** How to read one small JSON file distill writes into a model folder. */
export interface CheckedJsonFile {
  readonly file: string;
  /** What such a file is, for the size error: `a calibration file`. */
  readonly what: string;
  /** Larger than this, it is not one. */
  readonly maximumBytes: number;
  /** The command or step that writes the file again. */
  readonly fix: string;
  /** Where the parsed value breaks the format; null when it is valid. */
  readonly problemOf: (value: unknown) => JsonFileProblem | null;
}

/**
 * Reads and checks a small JSON file of distill's own: null when there is none; a {@link UserError}
 * naming the file, the JSON pointer and the fix for one that is too large, not JSON, a link (never
 * followed, a broken one included), or not in its format.
 */
export function readCheckedJsonFile(spec: CheckedJsonFile): unknown {
  const { file, fix } = spec;
  const name = path.basename(file);
  let size: number;
  try {
    // lstat: a link is found here, and refused by the read below.
    size = lstatSync(file).size;
  } catch {
    return null;
  }
  if (size > spec.maximumBytes) {
    throw new UserError({ file, message: `${name} is ${size} bytes, more than ${spec.what}'s limit of ${spec.maximumBytes}`, fix });
  }
  const text = readTextFileNoFollow(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError({ file, message: `${name} is not JSON: ${(error as Error).message}`, fix });
  }
  const problem = spec.problemOf(value);
  if (problem) throw new UserError({ file, pointer: problem.pointer || '/', message: `${name} ${problem.message}`, fix });
  return value;
}
