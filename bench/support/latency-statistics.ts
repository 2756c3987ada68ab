import { percentile } from '../../core/report/statistics.js';

/** Mean and percentiles of a list of durations in milliseconds. */
export interface LatencySummary {
  readonly mean_ms: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly p99_ms: number;
}

/** Rounds to three decimals: microseconds, for milliseconds. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Summarises durations in milliseconds. */
export function summariseLatencies(durations: readonly number[]): LatencySummary {
  const sorted = [...durations].sort((left, right) => left - right);
  const mean = sorted.reduce((total, value) => total + value, 0) / Math.max(1, sorted.length);
  return {
    mean_ms: round3(mean),
    p50_ms: round3(percentile(sorted, 0.5)),
    p95_ms: round3(percentile(sorted, 0.95)),
    p99_ms: round3(percentile(sorted, 0.99)),
  };
}

/**
 * Runs `total` calls of `work(index)` with exactly `concurrency` of them in flight at any time
 * (each of `concurrency` workers awaits one call before starting its next), and times each call.
 */
export async function runConcurrently(
  total: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<{ seconds: number; latencies: number[]; cpuMicroseconds: number }> {
  const latencies = new Array<number>(total);
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const callStarted = performance.now();
      await work(index);
      latencies[index] = performance.now() - callStarted;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, latencies, cpuMicroseconds: cpu.user + cpu.system };
}
