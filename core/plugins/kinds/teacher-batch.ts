import type { TeacherRequest, TeacherResponse } from './teacher.js';

/** What a provider allows in one batch; the core splits larger work into several batches. */
export interface BatchLimits {
  /** Requests per batch (OpenAI 50,000; Anthropic 100,000). */
  readonly maxRequests: number;
  /** Bytes of the batch payload as the provider counts them (OpenAI's input file 200 MB; Anthropic 256 MB). */
  readonly maxBytes: number;
}

/** One request of a batch, named so that its result can be matched to it. */
export interface BatchItem {
  /**
   * Unique within the batch and echoed by the provider with the result (`custom_id`): at most 64
   * characters of `[A-Za-z0-9_-]`, which both providers accept.
   */
  readonly customId: string;
  readonly request: TeacherRequest;
}

/** Where a batch stands, as the provider reports it. */
export interface BatchStatus {
  /**
   * `running` until the provider is done with the batch; then `ended` (every request has a result,
   * some may have failed), `expired` (the provider's window passed: results exist only for what
   * finished), `cancelled` (idem), or `failed` (the batch as a whole was refused, e.g. its file did
   * not validate: there are no results).
   */
  readonly state: 'running' | 'ended' | 'expired' | 'cancelled' | 'failed';
  /** The provider's own word for the state (`validating`, `in_progress`, `finalizing`, `canceling`…), for the display. */
  readonly providerState: string;
  readonly counts: { readonly total: number; readonly succeeded: number; readonly failed: number };
  /** Why the batch failed as a whole, when it did (already redacted of secrets). */
  readonly error?: string;
}

/** The result of one request of an ended (or expired, or cancelled) batch. */
export type BatchResult =
  | { readonly customId: string; readonly status: 'answered'; readonly response: TeacherResponse }
  | {
      readonly customId: string;
      readonly status: 'failed';
      /** What the provider said (redacted). */
      readonly reason: string;
      /** True when asking again may succeed (server error, rate limit, expiry, cancel); false for a refused request (400). */
      readonly retryable: boolean;
    };

/**
 * Thrown by {@link TeacherBatchApi} methods when the provider no longer knows a batch id (404): it
 * was deleted, belongs to another key or organisation, or is past the provider's retention.
 */
export class BatchNotFoundError extends Error {
  constructor(
    message: string,
    readonly batchId: string,
  ) {
    super(message);
    this.name = 'BatchNotFoundError';
  }
}

/**
 * A provider's batch API (OpenAI's Batch API through the Files API, Anthropic's Message Batches), as
 * a teacher offers it. The teacher makes single calls and reports what happened; splitting, the
 * record of batch ids in the cache database, polling with backoff, resubmitting what is missing and
 * committing answers before they are parsed all belong to the core, so every provider gets them alike.
 *
 * Errors: {@link TeacherRetryableError} for what may succeed later (429, 5xx, a timeout, a network
 * error), {@link BatchNotFoundError} for an unknown batch id, a `UserError` for what fails alike for
 * every call (a rejected key, an unknown model); messages never hold secrets.
 */
export interface TeacherBatchApi {
  readonly limits: BatchLimits;
  /** Bytes one item takes in the provider's batch payload (one JSONL line, or one request object), to split by bytes. */
  itemBytes(item: BatchItem): number;
  /**
   * Submits one batch and returns the provider's batch id. `label` is attached where the provider keeps
   * metadata, so that {@link TeacherBatchApi.find} can recognise the batch after a kill between the
   * provider accepting it and the core storing its id.
   */
  submit(items: readonly BatchItem[], label: string, signal: AbortSignal): Promise<string>;
  /**
   * The id of a batch this teacher submitted with `label` (of `itemCount` requests, at or after
   * `submittedAfter`, milliseconds since the epoch), or null when the provider holds none: asked on
   * resume for a submission whose id was never stored, so that it is collected rather than sent twice.
   * `knownBatchIds` are the ids the core has on record for other submissions: a provider that must
   * tell candidates apart by size and time (Anthropic keeps no metadata) leaves them out, since
   * batches of equal size submitted in the same minutes are the rule when the core splits work.
   */
  find(
    label: string,
    itemCount: number,
    submittedAfter: number,
    signal: AbortSignal,
    knownBatchIds?: ReadonlySet<string>,
  ): Promise<string | null>;
  status(batchId: string, signal: AbortSignal): Promise<BatchStatus>;
  /** The results of a batch that is no longer running, one per request that has one. */
  results(batchId: string, signal: AbortSignal): AsyncIterable<BatchResult>;
  cancel(batchId: string, signal: AbortSignal): Promise<void>;
}
