import type { QuantizationComparisonRequest } from '../plugins/kinds/exporter.js';
import { loadStudent } from './load-student.js';
import type { PrecisionMeasurement } from './precision-choice.js';
import type { StudentPrecision } from './student-folder.js';

/** Both graphs of a folder scored on the same examples, and how often they give the same answer. */
export interface PrecisionComparison extends PrecisionMeasurement {
  readonly fullPrecisionAccuracy: number;
  readonly quantizedAccuracy: number;
  /** Share of examples where both precisions predict the same label. */
  readonly agreement: number;
}

/**
 * Scores a folder's fp32 and int8 graphs on the same examples with the comparison's evaluator:
 * what the exporter reports beside the int8 graphs, and what {@link choosePrecision} decides from.
 * `onPrecision` hears which graphs are being scored, for progress.
 */
export async function comparePrecisions(
  directory: string,
  comparison: QuantizationComparisonRequest,
  onPrecision?: (precision: StudentPrecision, examples: number) => void,
): Promise<PrecisionComparison> {
  const inputs = comparison.examples.map((example) => example.input);
  const labels: Record<StudentPrecision, string[]> = { fp32: [], int8: [] };
  for (const precision of ['fp32', 'int8'] as const) {
    onPrecision?.(precision, inputs.length);
    const student = await loadStudent(directory, { precision });
    try {
      labels[precision] = (await student.predict(inputs)).map((prediction) => prediction.label);
    } finally {
      await student.close();
    }
  }
  const { examples } = comparison;
  const accuracy = (predicted: readonly string[]) =>
    examples.length === 0
      ? 0
      : examples.reduce((sum, example, index) => sum + comparison.score(predicted[index]!, example.label), 0) / examples.length;
  const agreeing = labels.fp32.filter((label, index) => label === labels.int8[index]).length;
  return {
    metric: comparison.metric,
    examples: examples.length,
    fullPrecisionAccuracy: accuracy(labels.fp32),
    quantizedAccuracy: accuracy(labels.int8),
    agreement: examples.length === 0 ? 1 : agreeing / examples.length,
  };
}
