import { randomBytes } from 'node:crypto';
import { canonicalHash } from '../../canonical-json.js';
import { isUserError, UserError } from '../../errors/user-error.js';
import type { DatasetExample } from '../../plugins/kinds/dataset.js';
import {
  BatchNotFoundError,
  type BatchItem,
  type BatchResult,
  type BatchStatus,
  type TeacherBatchApi,
} from '../../plugins/kinds/teacher-batch.js';
import type { TeacherMessage, TeacherRequest, TeacherResponse, TokenCounter } from '../../plugins/kinds/teacher.js';
import type { EngineOutcome, UncommittedAnswer } from '../request-engine.js';
import type { TeachRun } from '../teach-run.js';
import type { TeachStageInput } from '../teach-stage.js';
import type { CacheEntryOrigin, TeacherCache } from '../teacher-cache.js';
import type { TeacherOutputWriter } from '../teacher-output.js';
import { teacherRecordFor } from '../teacher-record-for.js';
import { pollDelay, withBatchRetries, type BatchRetrySettings } from './batch-calls.js';
import { splitIntoBatches } from './batch-split.js';
import { BatchStore, type StoredBatchItem } from './batch-store.js';
import { BatchWork, type PendingExample, type PendingRequest } from './batch-work.js';

/** What the batch flow gets from the teach stage. */
export interface BatchTeachContext {
  readonly input: TeachStageInput;
  readonly run: TeachRun;
  readonly writer: TeacherOutputWriter;
  /** The examples the output does not hold yet. */
  readonly examples: AsyncIterable<DatasetExample>;
  /** The cache key of a request: the request engine's, so that batch and real-time answers share keys. */
  readonly keyOf: (request: TeacherRequest) => string;
  /** The stage's stop: the user's Ctrl+C, or a fatal error elsewhere. */
  readonly signal: AbortSignal;
  /** Keeps an answer the cache refused (the spill file) and stops the stage, as in real-time mode. */
  readonly onUncommitted: (answer: UncommittedAnswer, error: unknown) => void;
}

/**
 * How long before its own clock a submission may have been dated by the provider, when it is looked
 * up by label after a kill: the two clocks differ, and a window too tight would miss the batch and
 * submit its requests twice.
 */
const findSlackMilliseconds = 10 * 60_000;

/** A submission at the provider that this run polls. */
interface LiveBatch {
  readonly label: string;
  readonly batchId: string;
  readonly itemCount: number;
  readonly submittedAt: number;
}

/**
 * The teach stage in batch mode (`teacher.mode: batch`): asks the teacher's {@link TeacherBatchApi}
 * for every example × sample index the output and the cache do not hold, and writes each example's
 * record as soon as its answers are collected. See `docs/batch-mode.md`.
 *
 * 1. Answers already in the cache (real-time or batch, this pipeline's or another's) are used without
 *    asking. Requests a live batch of this teacher holds (submitted by a run that was stopped or
 *    killed) are waited for, never submitted again; a submission whose id was never stored is looked
 *    up by its label first.
 * 2. The rest is split into batches within the provider's limits and `max_requests_per_batch`, each
 *    written to the {@link BatchStore} before it is submitted and its id stored the moment the
 *    provider returns it. The budget counts each request's estimated cost when it is submitted.
 * 3. Live batches are polled with backoff; an ended, expired or cancelled batch is collected: each
 *    answer committed to the cache before it is parsed, then the record written. Results missing or
 *    failed-retryable are submitted again in a new batch, up to the retry limit; refused ones give
 *    `failed` records. A batch failed as a whole frees its requests, and a second such failure of the
 *    same requests stops the stage with the provider's reason.
 *
 * On a stop nothing new is submitted and the live batches stay at the provider: the next run collects them.
 */
export async function runBatchTeach(context: BatchTeachContext): Promise<void> {
  await new BatchFlow(context).run();
}

class BatchFlow {
  private readonly api: TeacherBatchApi;
  private readonly cache: TeacherCache;
  private readonly store: BatchStore;
  private readonly work = new BatchWork();
  private readonly live = new Map<string, LiveBatch>();
  private readonly identity: string;
  private readonly teacherName: string;
  private readonly origin: CacheEntryOrigin;
  private readonly retries: BatchRetrySettings;
  private collectedBatches = 0;

  constructor(private readonly context: BatchTeachContext) {
    const { input } = context;
    const { teacher } = input;
    // The teach stage checked both before calling (see `checkBatchInputs`).
    this.api = teacher.batch!;
    this.cache = input.cache!;
    this.store = BatchStore.of(this.cache);
    this.identity = canonicalHash({
      plugin: input.teacherPluginId,
      version: input.teacherPluginVersion,
      provider: teacher.provider,
      model: teacher.model,
      options: teacher.requestOptions,
    });
    this.teacherName = `${input.teacherPluginId}@${input.teacherPluginVersion} ${teacher.provider}/${teacher.model}`;
    this.origin = {
      pluginId: input.teacherPluginId,
      pluginVersion: input.teacherPluginVersion,
      provider: teacher.provider,
      model: teacher.model,
    };
    this.retries = {
      clock: input.clock,
      httpSettings: input.httpSettings,
      maxRetries: input.limits.maxRetries ?? input.httpSettings.maxRetries,
      events: input.events,
      random: input.random ?? Math.random,
    };
  }

  private get signal(): AbortSignal {
    return this.context.signal;
  }

  /** Whether the stage is stopping (a method, so that the compiler does not take it for a constant between awaits). */
  private stopped(): boolean {
    return this.context.signal.aborted;
  }

  async run(): Promise<void> {
    await this.gather();
    await this.recoverUnnamed();
    this.adoptLive();
    const settings = this.context.input.batch ?? { poll_seconds: 30, max_poll_seconds: 600 };
    const poll = { pollMilliseconds: settings.poll_seconds * 1000, maxPollMilliseconds: settings.max_poll_seconds * 1000 };
    let round = 0;
    while (!this.stopped()) {
      if (await this.submitFree()) round = 0;
      if (this.live.size === 0) break;
      const collected = await this.pollAll();
      this.context.run.progress();
      if (this.stopped() || collected) continue;
      try {
        await this.context.input.clock.sleep(pollDelay(round++, poll, this.retries.random), this.signal);
      } catch (error) {
        if (!this.stopped()) throw error;
      }
    }
    if (this.stopped() && this.live.size > 0) {
      this.context.input.events.emit('teacher.batch_stopped', {
        batches: this.live.size,
        requests: [...this.live.values()].reduce((sum, batch) => sum + batch.itemCount, 0),
      });
    }
  }

  /** Every example × sample index to answer; those the cache holds are answered from it at once. */
  private async gather(): Promise<void> {
    const { input } = this.context;
    const samples = input.samples ?? 1;
    const counter = await input.teacher.tokenCounter?.();
    const estimateOf = (request: TeacherRequest) => this.estimate(request, counter ?? null);
    for await (const example of this.context.examples) {
      const messages = input.prompt.render(example);
      const requests: TeacherRequest[] = Array.from({ length: samples }, (_, index) => ({
        exampleId: example.id,
        split: example.split,
        messages,
        // Sample 0 is the example's usual request, so that it shares its key with real-time answers.
        ...(index > 0 ? { sampleIndex: index } : {}),
      }));
      this.work.add(example, requests, requests.map(this.context.keyOf), estimateOf);
    }
    for (const key of [...this.work.requests.keys()]) {
      const stored = this.cache.get(key);
      if (!stored) continue;
      // Collected by a run killed before it wrote the record: paid by that batch, so counted as paid
      // here, once (the record marks it counted, see `finish`).
      const paid = this.store.isUnrecorded(key);
      if (paid) {
        // One request submitted (its estimate already settled), paid at its real usage.
        this.context.run.budget.countSubmitted(0);
        this.context.run.budget.pay(stored.response.usage);
      }
      this.finish(this.work.resolve(key, { status: 'answered', response: stored.response, cached: !paid, attempts: paid ? 1 : 0 }));
    }
    this.context.run.progress();
  }

  /** Counted prompt tokens (the teacher's system prompt included) plus `max_tokens`, at the batch price. */
  private estimate(request: TeacherRequest, counter: TokenCounter | null): number {
    const { teacher } = this.context.input;
    const messages: TeacherMessage[] = teacher.systemPrompt ? [{ role: 'system', content: teacher.systemPrompt }] : [];
    messages.push(...request.messages);
    const completionTokens = Number(teacher.requestOptions.max_tokens ?? 0) || 0;
    return this.context.run.budget.costOf({ promptTokens: counter?.countMessages(messages) ?? 0, completionTokens });
  }

  /**
   * Submissions of this teacher whose id was never stored (a kill between the provider accepting a
   * batch and the store writing its id): looked up by label, and either adopted or forgotten (the
   * provider never got them, so their requests are free).
   */
  private async recoverUnnamed(): Promise<void> {
    for (const submission of this.store.liveSubmissions(this.identity)) {
      if (submission.batchId !== null) continue;
      const found = await withBatchRetries(this.retries, { operation: 'find' }, this.signal, () =>
        this.api.find(
          submission.label,
          submission.itemCount,
          submission.submittedAt - findSlackMilliseconds,
          this.signal,
          this.store.batchIds(),
        ),
      );
      if (found === null) this.store.forget(submission.label);
      else this.store.setBatchId(submission.label, found);
      this.context.input.events.emit('teacher.batch_recovered', { label: submission.label, batch: found, requests: submission.itemCount });
    }
  }

  /** Live batches of this teacher holding requests this run needs: polled and collected, their requests never submitted again. */
  private adoptLive(): void {
    const holders = this.store.liveKeys();
    const submissions = new Map(this.store.liveSubmissions(this.identity).map((submission) => [submission.label, submission]));
    for (const request of this.work.requests.values()) {
      const label = holders.get(request.key);
      const submission = label === undefined ? undefined : submissions.get(label);
      if (!submission?.batchId) continue;
      request.label = submission.label;
      request.submissions = 1;
      // Submitted work counts against the budget until its answer replaces the estimate.
      this.context.run.budget.countSubmitted(request.estimate);
      this.live.set(submission.label, {
        label: submission.label,
        batchId: submission.batchId,
        itemCount: submission.itemCount,
        submittedAt: submission.submittedAt,
      });
    }
  }

  /** Submits what is free, within the budget; true when anything was submitted. */
  private async submitFree(): Promise<boolean> {
    const admitted: PendingRequest[] = [];
    for (const request of this.work.free()) {
      if (!this.work.requests.has(request.key)) continue;
      if (this.context.run.budget.admitSubmitted(request.estimate)) admitted.push(request);
      else for (const { pending } of [...request.waiting]) this.skipForBudget(pending);
    }
    if (admitted.length === 0) return false;
    const byKey = new Map(admitted.map((request) => [request.key, request]));
    // Split by the cache key as custom id: 64 characters, never fewer than the `<label>-<n>` each item
    // is submitted with, so that the bytes counted here are never below those sent.
    const items: BatchItem[] = admitted.map((request) => ({ customId: request.key, request: request.request }));
    const batches = splitIntoBatches(
      items,
      { limits: this.api.limits, maxRequestsPerBatch: this.context.input.batch?.max_requests_per_batch },
      (item) => this.api.itemBytes(item),
      this.context.input.teacherPluginId,
    );
    for (const batch of batches) {
      const requests = batch.map((item) => byKey.get(item.customId)!);
      if (this.stopped()) {
        // Stopped between two submissions: what was not submitted is not counted.
        for (const request of requests) this.context.run.budget.release(request.estimate);
        continue;
      }
      await this.submit(requests);
    }
    return true;
  }

  /** An example whose request the budget refused: no record, so that the next run asks it again. */
  private skipForBudget(pending: PendingExample): void {
    this.work.drop(pending);
    this.context.run.write(this.context.writer, pending.example, [{ status: 'skipped', reason: 'budget' }], null);
  }

  /**
   * Stores, submits and names one batch. Its items' custom ids are `<label>-<n>`: a provider that keeps
   * no metadata on a batch (Anthropic) recognises it by them in `find`.
   */
  private async submit(requests: readonly PendingRequest[]): Promise<void> {
    const label = `distill-${randomBytes(12).toString('hex')}`;
    const submittedAt = this.context.input.clock.now();
    const items: BatchItem[] = requests.map((request, index) => ({ customId: `${label}-${index}`, request: request.request }));
    const stored: StoredBatchItem[] = requests.map((request, index) => ({
      customId: items[index]!.customId,
      cacheKey: request.key,
      exampleId: request.request.exampleId,
      split: request.request.split,
      sampleIndex: request.request.sampleIndex ?? 0,
    }));
    this.store.begin({ label, identity: this.identity, teacher: this.teacherName, itemCount: items.length, submittedAt }, stored);
    for (const request of requests) {
      request.label = label;
      request.submissions++;
    }
    // The upload is not cut by a stop: once it is under way, its id had better be stored.
    const uninterrupted = new AbortController().signal;
    let batchId: string;
    try {
      batchId = await withBatchRetries(this.retries, { operation: 'submit' }, this.signal, async (attempt) => {
        // A call that failed may still have reached the provider: look before submitting again.
        const found =
          attempt > 0
            ? await this.api.find(label, items.length, submittedAt - findSlackMilliseconds, uninterrupted, this.store.batchIds())
            : null;
        return found ?? (await this.api.submit(items, label, uninterrupted));
      });
    } catch (error) {
      if (this.stopped()) return;
      if (isUserError(error)) {
        // Refused as such (a rejected key, an unknown model): the provider holds nothing of it.
        this.store.forget(label);
        throw error;
      }
      throw new UserError({
        message: `submitting a batch of ${items.length} requests to ${this.teacherName} failed: ${describe(error)}`,
        plugin: `teacher/${this.context.input.teacherPluginId}`,
        fix: `run the same command again: it asks the provider for the batch labelled ${label} and collects it if the provider took it, or submits its requests again if not`,
      });
    }
    this.store.setBatchId(label, batchId);
    this.live.set(label, { label, batchId, itemCount: items.length, submittedAt });
    this.context.input.events.emit('teacher.batch_submitted', { batch: batchId, label, requests: items.length });
  }

  /** Checks every live batch once, collecting those that are done; true when any was. */
  private async pollAll(): Promise<boolean> {
    let collected = false;
    for (const batch of [...this.live.values()]) {
      if (this.stopped()) break;
      let status: BatchStatus;
      try {
        status = await withBatchRetries(this.retries, { operation: 'status', batch: batch.batchId }, this.signal, () =>
          this.api.status(batch.batchId, this.signal),
        );
      } catch (error) {
        if (error instanceof BatchNotFoundError) throw this.notFound(batch, error);
        if (this.stopped()) break;
        throw this.pollFailure(batch, error);
      }
      const { counts } = status;
      this.context.input.events.emit('teacher.batch_status', {
        batch: batch.batchId,
        state: status.state,
        provider_state: status.providerState,
        total: counts.total,
        succeeded: counts.succeeded,
        failed: counts.failed,
      });
      if (status.state === 'running') continue;
      collected = true;
      if (status.state === 'failed') this.failedAsWhole(batch, status);
      else await this.collect(batch, status);
    }
    return collected;
  }

  /** Collects an ended, expired or cancelled batch; what has no answer is free to be submitted again. */
  private async collect(batch: LiveBatch, status: BatchStatus): Promise<void> {
    this.store.setState(batch.label, status.state);
    const items = new Map(this.store.items(batch.label).map((item) => [item.customId, item]));
    const seen = new Set<string>();
    const again: { key: string; reason: string }[] = [];
    let answered = 0;
    let failed = 0;
    try {
      await withBatchRetries(this.retries, { operation: 'results', batch: batch.batchId }, this.signal, async () => {
        for await (const result of this.api.results(batch.batchId, this.signal)) {
          const item = items.get(result.customId);
          // A retried download starts again from the first result: those taken are skipped.
          if (!item || seen.has(result.customId)) continue;
          seen.add(result.customId);
          const taken = await this.take(item, result);
          if (taken === 'answered') answered++;
          else if (taken === 'failed') failed++;
          else again.push({ key: item.cacheKey, reason: taken.again });
          if (this.stopped()) return;
        }
      });
    } catch (error) {
      if (error instanceof BatchNotFoundError) throw this.notFound(batch, error);
      // Stopped in mid-collection: the answers taken are in the cache; the next run collects the rest.
      if (this.stopped()) return;
      throw this.pollFailure(batch, error);
    }
    if (this.stopped()) return;
    for (const item of items.values()) {
      if (!seen.has(item.customId)) again.push({ key: item.cacheKey, reason: `no result (the batch ${status.state})` });
    }
    this.store.setState(batch.label, 'collected');
    this.live.delete(batch.label);
    this.collectedBatches++;
    for (const { key, reason } of again) this.submitAgainOrFail(key, reason);
    this.context.input.events.emit('teacher.batch_collected', {
      batch: batch.batchId,
      state: status.state,
      answered,
      failed,
      resubmitted: again.length,
      collected_batches: this.collectedBatches,
    });
  }

  /** Takes one result: an answer is committed to the cache before it is parsed; says what came of it. */
  private async take(item: StoredBatchItem, result: BatchResult): Promise<'answered' | 'failed' | { again: string }> {
    const request = this.work.requests.get(item.cacheKey);
    if (result.status === 'failed') {
      if (result.retryable) return { again: result.reason };
      if (request) {
        this.context.run.budget.settle(request.estimate, null);
        this.finish(this.work.resolve(item.cacheKey, { status: 'failed', reason: result.reason, attempts: request.submissions }));
      }
      return 'failed';
    }
    const { response } = result;
    // As in real-time mode: an empty answer is no answer, asked again and never cached.
    if (response.text.trim() === '')
      return { again: `empty answer${response.finishReason ? ` (finish reason: ${response.finishReason})` : ''}` };
    await this.commit(item.cacheKey, response);
    if (request) {
      this.context.run.budget.settle(request.estimate, response.usage);
      this.finish(this.work.resolve(item.cacheKey, { status: 'answered', response, cached: false, attempts: request.submissions }));
    }
    return 'answered';
  }

  /** Commits one answer and waits until it is on disk; a cache that refuses it spills it and stops the stage. */
  private async commit(key: string, response: TeacherResponse): Promise<void> {
    const createdAt = this.context.input.clock.now();
    const committed = this.cache.commit(key, this.origin, response, createdAt);
    this.cache.flushCommits();
    try {
      await committed;
    } catch (error) {
      this.context.onUncommitted({ key, origin: this.origin, response, createdAt }, error);
    }
  }

  /** A request whose result is missing or failed-retryable: free again, or failed once it was submitted more times than retries allow. */
  private submitAgainOrFail(key: string, reason: string): void {
    const request = this.work.requests.get(key);
    if (!request) return;
    this.context.run.budget.release(request.estimate);
    if (request.submissions > this.retries.maxRetries) {
      const outcome: EngineOutcome = {
        status: 'failed',
        reason: `${reason} (gave up after ${request.submissions} batches)`,
        attempts: request.submissions,
      };
      this.finish(this.work.resolve(key, outcome));
      return;
    }
    request.label = null;
  }

  /** A batch the provider failed as a whole: its requests are free; the second such failure of the same requests stops. */
  private failedAsWhole(batch: LiveBatch, status: BatchStatus): void {
    const reason = status.error ?? 'the provider gave no reason';
    const earlier = this.store.earlierFailure(batch.label);
    const keys = this.store.items(batch.label).map((item) => item.cacheKey);
    this.store.setState(batch.label, 'failed', reason);
    this.live.delete(batch.label);
    for (const key of keys) {
      const request = this.work.requests.get(key);
      if (request?.label !== batch.label) continue;
      this.context.run.budget.release(request.estimate);
      request.label = null;
    }
    this.context.input.events.emit('teacher.batch_failed', { batch: batch.batchId, reason });
    if (earlier) {
      throw new UserError({
        message: `the provider failed batch ${batch.batchId} as a whole: "${reason}"; it failed batch ${earlier.batchId ?? earlier.label} holding the same requests before ("${earlier.error ?? ''}"), so submitting them again would fail alike`,
        plugin: `teacher/${this.context.input.teacherPluginId}`,
        fix: "fix what the provider's reason names (the model's batch support, the account's batch quota, the request options), then run the same command again: nothing answered is lost",
      });
    }
  }

  /** The error for a stored batch id the provider no longer knows. */
  private notFound(batch: LiveBatch, error: BatchNotFoundError): UserError {
    return new UserError({
      message: `the provider no longer knows batch ${batch.batchId} (submitted ${new Date(batch.submittedAt).toISOString()}, ${batch.itemCount} requests, to ${this.teacherName}): ${error.message}`,
      plugin: `teacher/${this.context.input.teacherPluginId}`,
      fix: `if it was deleted or belongs to another API key, run \`distill cache forget-batch ${batch.batchId} --path ${this.cache.file}\` and then this command again: the requests of that batch that have no answer yet are submitted again (answers already collected stay in the cache)`,
    });
  }

  /** The error for a batch API that kept failing while polling or collecting. */
  private pollFailure(batch: LiveBatch, error: unknown): unknown {
    if (isUserError(error)) return error;
    return new UserError({
      message: `checking batch ${batch.batchId} at ${this.teacherName} failed: ${describe(error)}`,
      plugin: `teacher/${this.context.input.teacherPluginId}`,
      fix: 'run the same command again later: the batch stays at the provider and is collected then, never submitted again',
    });
  }

  /**
   * Writes the record of each finished example, then marks the batch answers it counted as paid, so
   * that a later run's record does not count them again. Only then: an example's answers may come in
   * several batches, and a kill before its record is written must leave them to be counted by the next run.
   */
  private finish(finished: readonly PendingExample[]): void {
    const { input, run, writer } = this.context;
    for (const pending of finished) {
      const outcomes = pending.outcomes as EngineOutcome[];
      run.write(
        writer,
        pending.example,
        outcomes,
        teacherRecordFor(pending.example, outcomes, input, (usage) => run.budget.costOf(usage)),
      );
      this.store.markRecorded(
        pending.keys.filter((_, index) => {
          const outcome = outcomes[index]!;
          return outcome.status === 'answered' && !outcome.cached;
        }),
      );
    }
    if (finished.length > 0) run.progress();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
