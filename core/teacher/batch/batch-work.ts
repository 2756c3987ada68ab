import type { DatasetExample } from '../../plugins/kinds/dataset.js';
import type { TeacherRequest } from '../../plugins/kinds/teacher.js';
import type { EngineOutcome } from '../request-engine.js';

/** An example waiting for the answers of its samples. */
export interface PendingExample {
  readonly example: DatasetExample;
  /** The cache key of each sample's request. */
  readonly keys: readonly string[];
  /** One per sample index, in order; filled as answers (or failures) come. */
  readonly outcomes: (EngineOutcome | undefined)[];
  /** Samples without an outcome yet. */
  left: number;
}

/** One request to answer: a cache key, wanted by one or more samples (identical prompts are asked once). */
export interface PendingRequest {
  readonly key: string;
  readonly request: TeacherRequest;
  /** Estimated cost of submitting it (counted prompt tokens plus `max_tokens`, at the batch price). */
  readonly estimate: number;
  /** The samples that wait for it. */
  readonly waiting: { readonly pending: PendingExample; readonly index: number }[];
  /** Label of the live submission holding it, or null while it is free to be submitted. */
  label: string | null;
  /** Submissions of it in this run (a result missing or failed-retryable submits it again, up to the retry limit). */
  submissions: number;
}

/**
 * The examples a batch run still has to answer, by example and by cache key. An example is finished
 * when every sample has an outcome; {@link BatchWork.resolve} hands finished examples back so that
 * their record is written at once, and forgets them, so that only unfinished work is held.
 */
export class BatchWork {
  readonly requests = new Map<string, PendingRequest>();

  /** Adds an example with its requests (one per sample index) and their cache keys. */
  add(
    example: DatasetExample,
    requests: readonly TeacherRequest[],
    keys: readonly string[],
    estimateOf: (request: TeacherRequest) => number,
  ): void {
    const pending: PendingExample = { example, keys, outcomes: requests.map(() => undefined), left: requests.length };
    requests.forEach((request, index) => {
      const key = keys[index]!;
      let entry = this.requests.get(key);
      if (!entry) {
        entry = { key, request, estimate: estimateOf(request), waiting: [], label: null, submissions: 0 };
        this.requests.set(key, entry);
      }
      entry.waiting.push({ pending, index });
    });
  }

  /**
   * Gives every sample waiting for `key` its outcome and returns the examples now finished. The first
   * sample gets the outcome as it is; others asking the same prompt get it as a cached answer, as
   * the request engine does for identical requests in flight (paid once, counted once).
   */
  resolve(key: string, outcome: EngineOutcome): PendingExample[] {
    const entry = this.requests.get(key);
    if (!entry) return [];
    this.requests.delete(key);
    const finished: PendingExample[] = [];
    entry.waiting.forEach(({ pending, index }, position) => {
      pending.outcomes[index] = position === 0 || outcome.status !== 'answered' ? outcome : { ...outcome, cached: true, attempts: 0 };
      pending.left--;
      if (pending.left === 0) finished.push(pending);
    });
    return finished;
  }

  /**
   * Forgets an example (its request could not be submitted within the budget): it gets no record and
   * the next run asks it again. Requests no other example waits for are dropped unless a batch holds them.
   */
  drop(pending: PendingExample): void {
    for (const key of new Set(pending.keys)) {
      const entry = this.requests.get(key);
      if (!entry) continue;
      const kept = entry.waiting.filter((waiter) => waiter.pending !== pending);
      entry.waiting.splice(0, entry.waiting.length, ...kept);
      if (kept.length === 0 && entry.label === null) this.requests.delete(key);
    }
  }

  /** The requests free to be submitted, in the order they were added. */
  free(): PendingRequest[] {
    return [...this.requests.values()].filter((entry) => entry.label === null);
  }
}
