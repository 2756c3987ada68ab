import type { Problem } from '../errors/problem.js';
import type { ExporterDescriptor } from '../plugins/kinds/exporter.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { isPlainObject } from './merge-documents.js';
import { locate, type SourceMap } from './source-map.js';

/**
 * What the schema cannot say about the `evaluation` block: that it has an evaluate stage to apply to
 * (the pipeline exports), and that the int8 graphs it asks for are ones the export step writes (the
 * exporter's `precisionFix` says; core never reads an exporter's options itself). Run after each
 * step's options are checked: the exporter is asked only when `exportValid` says its options are valid
 * (their defaults filled).
 */
export function evaluationProblems(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  sourceMap: SourceMap,
  exportValid: boolean,
): Problem[] {
  const evaluation = document.evaluation;
  if (!isPlainObject(evaluation)) return [];
  const at = (pointer: string) => ({ ...(locate(sourceMap, pointer, true) ?? {}), pointer });
  const exportStep = document.export;
  if (!isPlainObject(exportStep)) {
    return [
      {
        ...at('/evaluation'),
        message: 'evaluation settings apply to the evaluate stage, which runs only when the pipeline exports the student',
        fix: 'add an export step (e.g. `export: { use: onnx }`), or remove evaluation',
      },
    ];
  }
  if (evaluation.precision !== 'int8' || !exportValid || typeof exportStep.use !== 'string' || !registry.has('exporter', exportStep.use)) {
    return [];
  }
  const descriptor: ExporterDescriptor = registry.get('exporter', exportStep.use);
  const fix = descriptor.precisionFix?.(isPlainObject(exportStep.options) ? exportStep.options : {}, 'int8');
  if (!fix) return [];
  return [
    {
      ...at('/evaluation/precision'),
      plugin: `exporter/${exportStep.use}`,
      message: `evaluation.precision is int8, but the export step (${exportStep.use}) is set to write no int8 graphs`,
      fix: `${fix}, or evaluate with precision: fp32`,
    },
  ];
}
