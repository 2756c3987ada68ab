import { percentile } from '../../core/report/statistics.js';

/**
 * The median of repeated measurements with their spread as min and max. Written for issue 18's engine
 * bench before a shared repeat-statistics helper existed; the median is the lower middle of an even count.
 */
export interface MedianAndRange {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median, min and max of `values`, each rounded to `decimals` places (NaN for none). */
export function medianAndRange(values: readonly number[], decimals = 3): MedianAndRange {
  const sorted = [...values].sort((left, right) => left - right);
  const scale = 10 ** decimals;
  const rounded = (value: number) => Math.round(value * scale) / scale;
  return { median: rounded(percentile(sorted, 0.5)), min: rounded(sorted[0] ?? Number.NaN), max: rounded(sorted.at(-1) ?? Number.NaN) };
}
