import type { Problem } from '../errors/problem.js';
import type { ExporterDescriptor } from '../plugins/kinds/exporter.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { isPlainObject } from './merge-documents.js';
import { locate, type SourceMap } from './source-map.js';

/** Where a problem is: its file position (where the source map knows it) and JSON pointer. */
type ProblemPlace = Pick<Problem, 'file' | 'line' | 'column' | 'pointer'>;

/**
 * `evaluation.calibrate` chooses thresholds on the validation split against the teacher's answers
 * there, and a run asks the teacher about the train split only: a validation split of its own
 * (`dataset.splits.validation`) would reach the evaluate stage with no reference, after everything
 * before it was paid for. The held-out share of the train split has the teacher's answers.
 */
function calibrationProblems(
  document: Record<string, unknown>,
  evaluation: Record<string, unknown>,
  at: (pointer: string) => ProblemPlace,
): Problem[] {
  if (evaluation.calibrate !== true) return [];
  const dataset = document.dataset;
  const splits = isPlainObject(dataset) ? dataset.splits : undefined;
  if (!isPlainObject(splits) || splits.validation === undefined) return [];
  return [
    {
      ...at('/dataset/splits/validation'),
      message: `evaluation.calibrate chooses its thresholds against the teacher's answers on the validation split, and a run asks the teacher about the train split only, so the declared validation split (${JSON.stringify(splits.validation)}) would have none`,
      fix: 'remove dataset.splits.validation (dataset.validation_fraction of the teacher-labelled train split is then held out for validation), or remove evaluation.calibrate',
    },
  ];
}

/**
 * What the schema cannot say about the `evaluation` block: that it has an evaluate stage to apply to
 * (the pipeline exports), that calibration has the teacher's answers on validation to work with, and
 * that the int8 graphs it asks for are ones the export step writes (the
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
  const at = (pointer: string): ProblemPlace => ({ ...(locate(sourceMap, pointer, true) ?? {}), pointer });
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
  const calibration = calibrationProblems(document, evaluation, at);
  if (evaluation.precision !== 'int8' || !exportValid || typeof exportStep.use !== 'string' || !registry.has('exporter', exportStep.use)) {
    return calibration;
  }
  const descriptor: ExporterDescriptor = registry.get('exporter', exportStep.use);
  const fix = descriptor.precisionFix?.(isPlainObject(exportStep.options) ? exportStep.options : {}, 'int8');
  if (!fix) return calibration;
  return [
    ...calibration,
    {
      ...at('/evaluation/precision'),
      plugin: `exporter/${exportStep.use}`,
      message: `evaluation.precision is int8, but the export step (${exportStep.use}) is set to write no int8 graphs`,
      fix: `${fix}, or evaluate with precision: fp32`,
    },
  ];
}
