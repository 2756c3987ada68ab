import { round3 } from '../support/latency-statistics.js';

/**
 * A median and the range of the values around it (min and max). The inference benches' own helper,
 * until the shared `bench/support/repeat-statistics.ts` of issue 18 exists to replace it.
 */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median, min and max, rounded to microseconds for milliseconds. */
export function spread(values: readonly number[]): Spread {
  return { median: round3(median(values)), min: round3(Math.min(...values)), max: round3(Math.max(...values)) };
}
