import {
  BatchNotFoundError,
  type BatchItem,
  type BatchLimits,
  type BatchResult,
  type BatchStatus,
  type TeacherBatchApi,
} from '../../../../core/plugins/kinds/teacher-batch.js';
import { TeacherRetryableError, type Teacher, type TeacherRequest, type TeacherResponse } from '../../../../core/plugins/kinds/teacher.js';

/** What the provider double does with one request of a batch. */
export type ItemOutcome =
  | { readonly kind: 'answer'; readonly text: string; readonly promptTokens?: number; readonly completionTokens?: number }
  | { readonly kind: 'fail'; readonly reason: string; readonly retryable: boolean }
  /** No result at all: the batch expired before the provider got to it. */
  | { readonly kind: 'missing' };

/** One batch the double holds. */
export interface DoubleBatch {
  readonly id: string;
  readonly label: string;
  readonly items: readonly BatchItem[];
  readonly createdAt: number;
  /** Status checks left before it ends. */
  pollsLeft: number;
  /** How it ends: `ended` (every result), `expired` (results only for items not `missing`), `failed` (none). */
  ending: 'ended' | 'expired' | 'failed';
  /** The outcome of each item, fixed when it is submitted. */
  readonly outcomes: Map<string, ItemOutcome>;
}

/** Switches a test sets on the double. */
export interface DoubleScript {
  /** The outcome of a request (its example id and sample index are on the request); default: an answer. */
  outcome?(request: TeacherRequest, submission: number): ItemOutcome;
  /** How a new batch ends (default `ended`); `submission` counts from 1. */
  ending?(submission: number): 'ended' | 'expired' | 'failed';
  /** Status checks of a batch before it ends (default 2). */
  polls?: number;
}

/**
 * An in-process provider batch API for tests of the core's batch flow: it keeps batches in memory,
 * counts what is submitted (per custom id and per example), ends each batch after a few status checks
 * as the script says, and can forget a batch id (the provider's 404), fail its next calls retryably,
 * or refuse a whole batch. The clock is the test's, so `find` sees the dates the core gave.
 */
export class BatchApiDouble implements TeacherBatchApi {
  readonly batches = new Map<string, DoubleBatch>();
  /** Times each request, as `<example id>#<sample index>`, was submitted. */
  readonly submittedExamples = new Map<string, number>();
  readonly calls = { submit: 0, find: 0, status: 0, results: 0, cancel: 0 };
  /** Ids answered with {@link BatchNotFoundError}. */
  readonly unknownIds = new Set<string>();
  /** `find` by size and time only, as for a provider that keeps no label (Anthropic), leaving out the ids the core knows. */
  findBySizeOnly = false;
  /** The next this many calls (any method) throw a retryable error (a 503). */
  failNextCalls = 0;
  private submissions = 0;

  constructor(
    readonly limits: BatchLimits,
    private readonly now: () => number,
    readonly script: DoubleScript = {},
  ) {}

  itemBytes(item: BatchItem): number {
    return Buffer.byteLength(JSON.stringify({ custom_id: item.customId, messages: item.request.messages })) + 1;
  }

  submit(items: readonly BatchItem[], label: string): Promise<string> {
    return later(() => this.submitNow(items, label));
  }

  private submitNow(items: readonly BatchItem[], label: string): string {
    this.calls.submit++;
    this.maybeFail();
    if (new Set(items.map((item) => item.customId)).size !== items.length) throw new Error('two items of one batch share a custom id');
    if (!items.every((item) => /^[A-Za-z0-9_-]{1,64}$/.test(item.customId))) throw new Error('a custom id the providers refuse');
    if (items.length > this.limits.maxRequests) throw new Error(`${items.length} requests in one batch, over the limit`);
    const bytes = items.reduce((sum, item) => sum + this.itemBytes(item), 0);
    if (bytes > this.limits.maxBytes) throw new Error(`${bytes} bytes in one batch, over the limit`);
    this.submissions++;
    const id = `batch_${this.submissions}`;
    const outcomes = new Map<string, ItemOutcome>();
    for (const item of items) {
      const example = `${item.request.exampleId}#${item.request.sampleIndex ?? 0}`;
      this.submittedExamples.set(example, (this.submittedExamples.get(example) ?? 0) + 1);
      outcomes.set(
        item.customId,
        this.script.outcome?.(item.request, this.submissions) ?? { kind: 'answer', text: answerFor(item.request) },
      );
    }
    this.batches.set(id, {
      id,
      label,
      items,
      createdAt: this.now(),
      pollsLeft: this.script.polls ?? 2,
      ending: this.script.ending?.(this.submissions) ?? 'ended',
      outcomes,
    });
    return id;
  }

  find(
    label: string,
    itemCount: number,
    submittedAfter: number,
    _signal?: AbortSignal,
    knownBatchIds?: ReadonlySet<string>,
  ): Promise<string | null> {
    return later(() => this.findNow(label, itemCount, submittedAfter, knownBatchIds ?? new Set()));
  }

  private findNow(label: string, itemCount: number, submittedAfter: number, known: ReadonlySet<string>): string | null {
    this.calls.find++;
    this.maybeFail();
    const candidates = [...this.batches.values()].filter(
      (batch) => batch.items.length === itemCount && batch.createdAt >= submittedAfter && !known.has(batch.id),
    );
    // As Anthropic, which keeps no label: by size and time alone, refusing to guess among several.
    if (this.findBySizeOnly) {
      if (candidates.length > 1) throw new Error(`${candidates.length} candidate batches of ${itemCount} requests`);
      return candidates[0]?.id ?? null;
    }
    return candidates.find((batch) => batch.label === label)?.id ?? null;
  }

  status(batchId: string): Promise<BatchStatus> {
    return later(() => this.statusNow(batchId));
  }

  private statusNow(batchId: string): BatchStatus {
    this.calls.status++;
    this.maybeFail();
    const batch = this.known(batchId);
    if (batch.pollsLeft > 0) batch.pollsLeft--;
    const total = batch.items.length;
    if (batch.pollsLeft > 0) return { state: 'running', providerState: 'in_progress', counts: { total, succeeded: 0, failed: 0 } };
    if (batch.ending === 'failed') {
      return { state: 'failed', providerState: 'failed', counts: { total, succeeded: 0, failed: 0 }, error: 'input file invalid (line 1)' };
    }
    const outcomes = [...batch.outcomes.values()];
    return {
      state: batch.ending,
      providerState: batch.ending === 'ended' ? 'completed' : 'expired',
      counts: {
        total,
        succeeded: outcomes.filter((outcome) => outcome.kind === 'answer').length,
        failed: outcomes.filter((outcome) => outcome.kind === 'fail').length,
      },
    };
  }

  async *results(batchId: string): AsyncIterable<BatchResult> {
    const batch = await later(() => {
      this.calls.results++;
      this.maybeFail();
      return this.known(batchId);
    });
    for (const item of batch.items) {
      const outcome = batch.outcomes.get(item.customId)!;
      if (outcome.kind === 'missing') continue;
      if (outcome.kind === 'fail') {
        yield { customId: item.customId, status: 'failed', reason: outcome.reason, retryable: outcome.retryable };
        continue;
      }
      const response: TeacherResponse = {
        text: outcome.text,
        usage: { promptTokens: outcome.promptTokens ?? 100, completionTokens: outcome.completionTokens ?? 10 },
        model: 'fake-1-2026',
        finishReason: 'stop',
      };
      yield { customId: item.customId, status: 'answered', response };
    }
  }

  cancel(batchId: string): Promise<void> {
    return later(() => {
      this.calls.cancel++;
      this.known(batchId).ending = 'expired';
    });
  }

  /** Requests (`<example id>#<sample index>`) submitted more than once. */
  submittedTwice(): string[] {
    return [...this.submittedExamples].filter(([, count]) => count > 1).map(([key]) => key);
  }

  private known(batchId: string): DoubleBatch {
    const batch = this.batches.get(batchId);
    if (!batch || this.unknownIds.has(batchId)) throw new BatchNotFoundError(`404 No batch found with id '${batchId}'.`, batchId);
    return batch;
  }

  private maybeFail(): void {
    if (this.failNextCalls <= 0) return;
    this.failNextCalls--;
    throw new TeacherRetryableError('503 service unavailable', null, 503);
  }
}

/** Runs `work` on a later turn of the event loop, as an answer over the network comes; its throw becomes a rejection. */
function later<Result>(work: () => Result): Promise<Result> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}

/** The double's answer to a request: `Answer: yes` for even-numbered examples, `no` for odd ones, with a rationale. */
export function answerFor(request: TeacherRequest): string {
  const index = Number(/(\d+)$/.exec(request.exampleId)?.[1] ?? 0);
  return `Answer: ${index % 2 === 0 ? 'yes' : 'no'} because the question says so plainly`;
}

/**
 * A teacher offering the double as its batch API: one word a token, $1 per million prompt tokens and $2
 * per million completion tokens in real time, half that in batches. Its real-time `complete` answers
 * like the double and counts its calls, for tests that fill the cache in real time first.
 */
export function batchTeacher(api: TeacherBatchApi | undefined): Teacher & { realtimeCalls: number } {
  const teacher = {
    provider: 'fake',
    model: 'fake-1',
    requestOptions: { max_tokens: 50, temperature: 0 },
    cacheable: true,
    batchPriceShare: 0.5,
    realtimeCalls: 0,
    batch: api,
    listedPrice: () => ({ key: 'fake/fake-1', prompt: 1, completion: 2 }),
    tokenCounter: () =>
      Promise.resolve({
        method: 'words',
        exact: false,
        countText: (text: string) => text.split(/\s+/).filter(Boolean).length,
        countMessages: (messages: readonly { content: string }[]) =>
          messages.reduce((sum, message) => sum + message.content.split(/\s+/).filter(Boolean).length + 3, 0),
      }),
    complete(request: TeacherRequest): Promise<TeacherResponse> {
      teacher.realtimeCalls++;
      return Promise.resolve({
        text: answerFor(request),
        usage: { promptTokens: 100, completionTokens: 10 },
        model: 'fake-1-2026',
        finishReason: 'stop',
      });
    },
  };
  return teacher;
}
