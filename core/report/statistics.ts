/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The value below which `fraction` of the sorted values lie (nearest rank); NaN for no values. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank]!;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function standardDeviation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const average = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

/** `41.3%` from 0.4133; `–` for null. */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || Number.isNaN(value) ? '–' : `${(value * 100).toFixed(digits)}%`;
}

/** `1.2 MB` style sizes. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '–';
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Exponential moving average with the start debiased (as TensorBoard smooths scalars): each value is
 * `weight` of the previous average and `1 − weight` of the new value, divided by `1 − weight^n` so that
 * the first values are not pulled towards 0. `weight` 0 returns the values as they are.
 */
export function exponentialMovingAverage(values: readonly number[], weight: number): number[] {
  let average = 0;
  return values.map((value, index) => {
    average = average * weight + (1 - weight) * value;
    return weight === 0 ? value : average / (1 - weight ** (index + 1));
  });
}
