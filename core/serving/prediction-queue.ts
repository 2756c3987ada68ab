import { performance } from 'node:perf_hooks';
import type { Prediction, PredictOptions, Student } from '../inference/load-student.js';
import { Semaphore } from '../teacher/semaphore.js';

/** What became of one request for a prediction. */
export type QueuedPrediction =
  | { readonly kind: 'predicted'; readonly predictions: Prediction[] }
  /** Every waiting place was taken; nothing was queued. */
  | { readonly kind: 'queue-full'; readonly retryAfterSeconds: number }
  /** The caller's signal aborted (its client went away) before the prediction started; nothing ran. */
  | { readonly kind: 'cancelled' };

/** Counters of a {@link PredictionQueue} since it was made, and what it holds now. */
export interface PredictionQueueStatistics {
  /** Predictions running now (0 or 1). */
  readonly running: number;
  /** Predictions waiting now. */
  readonly waiting: number;
  /** Predictions started (each one a call of the model). */
  readonly started: number;
  /** Predictions ended, with an answer or an error. */
  readonly finished: number;
  /** Requests dropped before their prediction started because their client went away. */
  readonly cancelled: number;
  /** Requests refused because the queue was full. */
  readonly refused: number;
}

// Weight of the newest duration in the running average that Retry-After is estimated from.
const averageWeight = 0.3;

/**
 * Runs one prediction at a time, with at most `maxWaiting` more waiting in arrival order.
 * onnxruntime already spreads one batch over its threads; concurrent runs would only compete for the
 * same cores (oversubscription costs about 3x here), so more work waits instead of running, and the
 * wait is bounded so that a burst is refused at once rather than served minutes late.
 */
export class PredictionQueue {
  private readonly turn = new Semaphore(1);
  private waiting = 0;
  private running = 0;
  private started = 0;
  private finished = 0;
  private cancelled = 0;
  private refused = 0;
  private averageMilliseconds: number | undefined;

  /**
   * @param student - the model every prediction runs on.
   * @param maxWaiting - predictions that may wait while one runs (0: none).
   */
  constructor(
    private readonly student: Student,
    private readonly maxWaiting: number,
  ) {
    if (!(Number.isInteger(maxWaiting) && maxWaiting >= 0))
      throw new RangeError(`maxWaiting must be a whole number of at least 0, got ${maxWaiting}`);
  }

  /**
   * Refuses at once when a request arriving now would find no place (counted as refused), before its
   * body is read; undefined when it would run or wait.
   */
  refuseIfFull(): Extract<QueuedPrediction, { kind: 'queue-full' }> | undefined {
    if (this.running === 0 || this.waiting < this.maxWaiting) return undefined;
    return this.refuse();
  }

  /**
   * Seconds after which a refused client may find room: the running prediction's expected end, from
   * the average duration of the recent ones (at least 1, and 1 before any has finished).
   */
  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.averageMilliseconds ?? 0) / 1000));
  }

  /**
   * Runs `student.predict` in turn. The signal stands for the client: when it aborts while the
   * request waits, the request leaves the queue and the model never sees it; it is checked once more
   * just before the prediction starts, so no batch starts for a client that has gone. A prediction
   * that has started runs to its end (onnxruntime cannot stop a run). A failure of the model rejects.
   */
  async predict(texts: readonly string[], options: PredictOptions, signal: AbortSignal): Promise<QueuedPrediction> {
    if (signal.aborted) return this.cancel();
    if (!this.turn.tryAcquire()) {
      if (this.waiting >= this.maxWaiting) return this.refuse();
      this.waiting++;
      try {
        await this.turn.acquire(signal);
      } catch {
        return this.cancel();
      } finally {
        this.waiting--;
      }
    }
    try {
      // The turn may have come in the same tick as the client left. (TypeScript carries the first check's
      // narrowing across the await, as if `aborted` could not change meanwhile.)
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- `aborted` may change during the await
      if (signal.aborted) return this.cancel();
      this.running++;
      this.started++;
      const start = performance.now();
      try {
        return { kind: 'predicted', predictions: await this.student.predict(texts, options) };
      } finally {
        this.record(performance.now() - start);
      }
    } finally {
      this.turn.release();
    }
  }

  /** Resolves once no prediction runs or waits (those whose clients have gone leave the queue by themselves). */
  async whenIdle(): Promise<void> {
    await this.turn.acquire();
    this.turn.release();
  }

  /** The counters now. */
  statistics(): PredictionQueueStatistics {
    return {
      running: this.running,
      waiting: this.waiting,
      started: this.started,
      finished: this.finished,
      cancelled: this.cancelled,
      refused: this.refused,
    };
  }

  private refuse(): Extract<QueuedPrediction, { kind: 'queue-full' }> {
    this.refused++;
    return { kind: 'queue-full', retryAfterSeconds: this.retryAfterSeconds() };
  }

  private cancel(): QueuedPrediction {
    this.cancelled++;
    return { kind: 'cancelled' };
  }

  private record(milliseconds: number): void {
    this.running--;
    this.finished++;
    this.averageMilliseconds =
      this.averageMilliseconds === undefined
        ? milliseconds
        : this.averageMilliseconds + averageWeight * (milliseconds - this.averageMilliseconds);
  }
}
