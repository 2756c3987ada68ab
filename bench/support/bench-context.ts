import type { QualityGridChoice } from '../quality/student-quality-benchmark.js';
import type { BenchMode, BenchResult } from './result-file.js';

/** A wrong command line or result file: reported as one line that says what to change, without a stack trace. */
export class BenchUsageError extends Error {}

/** What a bench's result file holds besides the envelope `run-benchmarks` adds. */
export interface BenchOutcome {
  readonly settings: unknown;
  readonly results: unknown;
}

/** What one bench run is given. */
export interface BenchContext {
  readonly mode: BenchMode;
  readonly qualityGrid: QualityGridChoice;
  /** Trainings run at once by the quality bench (`--jobs`); undefined for one per core. */
  readonly jobs: number | undefined;
  /** The bench's result file of this mode from an earlier run, if any. */
  readonly previous: BenchResult<unknown, unknown> | null;
  /** Writes a partial result now, so that a run stopped halfway keeps what it measured. */
  save(outcome: BenchOutcome): void;
}
