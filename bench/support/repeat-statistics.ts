/**
 * Repeated measurements, as every bench of issue 18 reports them: the median of at least three
 * repeats, interleaved (A B C, A B C, …, never A A A B B B) so that a slow minute of a shared machine
 * falls on every variant alike, with the spread as min and max. The trainer benches summarise the
 * same way in Python (`bench/trainer/trainer_benchmark.py`'s `summary`, same field names).
 */

import { round3 } from './latency-statistics.js';

/** The median of repeated measurements, their spread (min, max), and the values in the order they were taken. */
export interface RepeatSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
}

/** The median (the mean of the two middle values for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median, min and max of repeated measurements. */
export function summariseRepeats(values: readonly number[]): RepeatSummary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values: [...values] };
}

/** Median, min and max without the values, rounded to microseconds for milliseconds (the inference benches' cells). */
export type Spread = Omit<RepeatSummary, 'values'>;

/** {@link Spread} of a non-empty list. */
export function spread(values: readonly number[]): Spread {
  return { median: round3(median(values)), min: round3(Math.min(...values)), max: round3(Math.max(...values)) };
}

/**
 * `items` in the order of round `round`: starting `round` places further, wrapping around. Whatever
 * runs first in a round (a cold cache, a fresh allocator, the machine's own drift) is then spread over
 * the items instead of always falling on the first.
 */
export function rotated<Item>(items: readonly Item[], round: number): Item[] {
  const start = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/**
 * Runs every measurement of `measurements` once per round for `repeats` rounds, one at a time, and
 * returns each one's results in round order. Round r starts r places further along the list, so no
 * measurement always runs first (after a pause) or last.
 */
export async function runInterleaved<Result>(
  repeats: number,
  measurements: readonly { readonly name: string; readonly run: (round: number) => Promise<Result> }[],
): Promise<Map<string, Result[]>> {
  const results = new Map<string, Result[]>(measurements.map((measurement) => [measurement.name, []]));
  for (let round = 0; round < repeats; round++) {
    for (const measurement of rotated(measurements, round)) results.get(measurement.name)!.push(await measurement.run(round));
  }
  return results;
}
