import { isUserError, UserError } from '../errors/user-error.js';
import {
  TeacherRefusedError,
  TeacherRetryableError,
  type Teacher,
  type TeacherRequest,
  type TeacherResponse,
  type TokenUsage,
} from '../plugins/kinds/teacher.js';
import { startTimer, type Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import { backoffDelay } from './backoff.js';
import { teacherCacheKeys } from './cache-key.js';
import { RateLimiter, type TokenEstimate } from './rate-limiter.js';
import { Semaphore } from './semaphore.js';
import type { CacheEntryOrigin, TeacherCache } from './teacher-cache.js';
import type { TokenCounter } from './token-counter.js';

/** The request engine's limits (the pipeline's `teacher.limits`). */
export interface EngineLimits {
  readonly concurrency: number;
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  /** Retries after the first attempt; defaults to the HTTP settings' `maxRetries`. */
  readonly maxRetries?: number;
  /**
   * The longest wait a provider may ask for (`retry-after` and its kin) before a retry; longer
   * requests are cut to this. Default {@link defaultMaxRetryAfterMilliseconds}.
   */
  readonly maxRetryAfterMilliseconds?: number;
}

/** A provider asking for more than two minutes is not worth stalling a run for: retry after two. */
export const defaultMaxRetryAfterMilliseconds = 120_000;

/**
 * Refusals in a row (400 context length exceeded, 422, …, with no answer in between) after which the
 * engine stops: the requests are then wrong as such, and every other one would be refused too.
 */
export const refusalsBeforeStop = 5;

/** Everything a {@link RequestEngine} works with. */
export interface RequestEngineOptions {
  readonly teacher: Teacher;
  /** Teacher plugin id and version: part of every cache key. */
  readonly pluginId: string;
  readonly pluginVersion: string;
  /** Null when the cache is disabled (`cache.enabled: false`). */
  readonly cache: TeacherCache | null;
  readonly clock: Clock;
  readonly httpSettings: HttpSettings;
  readonly limits: EngineLimits;
  /**
   * Counts prompt tokens before a call, for the tokens-per-minute limit. May be null without such a
   * limit (loading a tokenizer's ranks takes a second or more, which a run without one need not pay).
   */
  readonly tokenCounter: TokenCounter | null;
  readonly events: EventStream;
  /** Per-attempt timeout; defaults to the HTTP settings' `timeoutMilliseconds`. */
  readonly timeoutMilliseconds?: number;
  /** Source of jitter (tests pass a fixed one). */
  readonly random?: () => number;
  /**
   * Asked just before a request that will be paid for (a cache miss); false refuses it and the
   * request comes back `skipped`. The teach stage's budget lives here, so cache hits are served
   * whatever the budget.
   */
  readonly admitPaidRequest?: () => boolean;
  /**
   * Told of every paid call while its slot is still held, so that spend is counted before the next
   * request is admitted (counting later would let one request too many past the budget). Once per
   * call: a call that brought several answers ({@link RequestEngine.requestSamples}) is told once,
   * with the usage the provider billed for all of them.
   */
  readonly onPaidAnswer?: (paid: { readonly usage: TokenUsage }) => void;
  /**
   * Given a paid answer the cache could not commit (a full disk, a read-only file) before anyone
   * uses it, to keep it elsewhere; the answer is then returned as usual. Without it the commit's
   * error is thrown and the answer is lost.
   */
  readonly onUncommitted?: (answer: UncommittedAnswer, error: unknown) => void;
}

/** A paid answer with everything the cache would have stored with it. */
export interface UncommittedAnswer {
  readonly key: string;
  readonly origin: CacheEntryOrigin;
  readonly response: TeacherResponse;
  readonly createdAt: number;
}

/** How one request ended. */
export type EngineOutcome =
  | {
      readonly status: 'answered';
      readonly response: TeacherResponse;
      /** Answered without a new paid call: from the cache, a recording, or an identical request in flight. */
      readonly cached: boolean;
      /** Provider calls made for this answer (retries included); 0 when cached. */
      readonly attempts: number;
    }
  | { readonly status: 'failed'; readonly reason: string; readonly attempts: number }
  /** Not asked: the budget is spent, or the caller's signal asked to stop before an answer came. */
  | { readonly status: 'skipped'; readonly reason: 'budget' | 'cancelled' };

/** How the attempts of one call ended: like {@link EngineOutcome}, with every answer the call brought. */
type CallOutcome =
  | {
      readonly status: 'answered';
      /** The answers with text: between 1 and the count asked. */
      readonly responses: readonly TeacherResponse[];
      /** What the provider billed for the call, its empty answers included. */
      readonly billed: TokenUsage;
      readonly attempts: number;
    }
  | Exclude<EngineOutcome, { status: 'answered' }>;

/**
 * The tokens a call for `count` answers may use, for the rate limiter: the prompt (sent, and counted
 * by the provider, once for all the answers of a call) plus the completion allowance. With a counter
 * that can bound its count cheaply, the bound, with the exact count to ask for only when the bound
 * would make the call wait (see {@link RateLimiter.acquire}); asked at most once, retries included.
 */
function tokenEstimate(request: TeacherRequest, count: number, teacher: Teacher, counter: TokenCounter | null): TokenEstimate {
  const completion = (Number(teacher.requestOptions.max_tokens ?? 0) || 0) * count;
  if (!counter) return completion;
  if (!counter.boundMessages) return counter.countMessages(request.messages) + completion;
  let exact: number | undefined;
  return {
    bound: counter.boundMessages(request.messages) + completion,
    exact: () => (exact ??= counter.countMessages(request.messages) + completion),
  };
}

/** An answer that cost nothing new. */
function sharedAnswer(response: TeacherResponse): EngineOutcome {
  return { status: 'answered', response, cached: true, attempts: 0 };
}

/**
 * Sends teacher requests the way every provider should get them: at most `concurrency` at once,
 * within requests- and tokens-per-minute limits, each attempt under a timeout, retried with
 * exponential backoff and full jitter (or the wait the provider asked for, capped), answered from the
 * cache when possible and committed to it before anyone sees the answer. Identical requests in flight
 * are made once. Errors, empty answers and malformed answers are never cached: they are retried, and a
 * request that still fails after its retries comes back `failed` with the reason rather than
 * throwing, so one bad example does not stop a stage.
 *
 * The caller's signal means "stop": a request waiting for a slot, a rate-limit turn or a backoff ends
 * at once (throwing the signal's reason), but a call already sent runs to its end, bounded by the
 * timeout, so that an answer being paid for is received and committed; it is then not retried (the
 * outcome is `skipped`, `cancelled`).
 *
 * What does throw: the stop, and a {@link UserError} for what would fail every request alike: a
 * rejected API key or an unknown model from the teacher, or {@link refusalsBeforeStop} refusals in a row.
 */
export class RequestEngine {
  private readonly semaphore: Semaphore;
  private readonly rateLimiter: RateLimiter;
  private readonly inFlight = new Map<string, Promise<EngineOutcome>>();
  /** Paid calls out (retries and their backoff included): answers that may still join this turn's commit. */
  private callsOut = 0;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMilliseconds: number;
  /** Refusals since the last answer: see {@link refusalsBeforeStop}. */
  private refusalsInARow = 0;
  private readonly timeoutMilliseconds: number;
  private readonly random: () => number;
  private readonly cacheKey: ReturnType<typeof teacherCacheKeys>;

  constructor(private readonly options: RequestEngineOptions) {
    const { teacher, pluginId, pluginVersion } = options;
    this.cacheKey = teacherCacheKeys({ pluginId, pluginVersion, model: teacher.model, requestOptions: teacher.requestOptions });
    this.semaphore = new Semaphore(options.limits.concurrency);
    this.rateLimiter = new RateLimiter(
      { requestsPerMinute: options.limits.requestsPerMinute, tokensPerMinute: options.limits.tokensPerMinute },
      options.clock,
    );
    this.maxRetries = options.limits.maxRetries ?? options.httpSettings.maxRetries;
    this.maxRetryAfterMilliseconds = options.limits.maxRetryAfterMilliseconds ?? defaultMaxRetryAfterMilliseconds;
    this.timeoutMilliseconds = options.timeoutMilliseconds ?? options.httpSettings.timeoutMilliseconds;
    this.random = options.random ?? Math.random;
  }

  /** The cache key of a request (exposed for tests and tools). */
  keyOf(request: TeacherRequest): string {
    return this.cacheKey(request.messages, request.sampleIndex);
  }

  /** Answers one request; see the class comment for what can come back. */
  async request(request: TeacherRequest, signal: AbortSignal): Promise<EngineOutcome> {
    const { teacher, cache } = this.options;
    if (!teacher.cacheable) {
      // Recorded answers: nothing to pay for or cache, and no provider limits to respect.
      return this.withSlot(signal, async () => {
        const outcome = await this.attempt(request, 1, signal, false);
        return outcome.status === 'answered' ? sharedAnswer(outcome.responses[0]!) : outcome;
      });
    }
    const key = this.keyOf(request);
    const stored = cache?.get(key);
    if (stored) return sharedAnswer(stored.response);

    const running = this.inFlight.get(key);
    if (running) {
      const outcome = await running;
      return outcome.status === 'answered' ? sharedAnswer(outcome.response) : outcome;
    }
    const started = this.withSlot(signal, async (waited) => {
      // Another process sharing the cache may have answered while we waited for a slot (without a
      // wait, the lookup above was made a moment ago, in the same synchronous step).
      const storedMeanwhile = waited ? cache?.get(key) : null;
      if (storedMeanwhile) return sharedAnswer(storedMeanwhile.response);
      const outcome = await this.paidCall(request, 1, signal);
      if (outcome.status !== 'answered') return outcome;
      await this.commitPaid([key], outcome.responses);
      return { status: 'answered', response: outcome.responses[0]!, cached: false, attempts: outcome.attempts } as const;
    });
    this.inFlight.set(key, started);
    try {
      return await started;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * Answers several samples of one request (`teacher.samples`), one outcome per index of
   * `sampleIndices` in that order, each cached under its own key ({@link keyOf} with that
   * `sampleIndex`). The indices the cache (or a call in flight) does not hold are asked in ONE call
   * of the teacher's {@link Teacher.completeSamples} (OpenAI's `n`), which counts as one request
   * for the budget and the rate limits, is retried, timed out and stopped like any other, and whose
   * answers are each committed before anyone uses them. A call that brings fewer answers than asked
   * (some empty) is followed by a call for the rest. A teacher without `completeSamples` gets one
   * {@link request} per index instead.
   */
  async requestSamples(request: TeacherRequest, sampleIndices: readonly number[], signal: AbortSignal): Promise<EngineOutcome[]> {
    const { teacher, cache } = this.options;
    const requests = sampleIndices.map((sampleIndex) => ({ ...request, sampleIndex }));
    if (!teacher.completeSamples || !teacher.cacheable) return settleAll(requests.map((each) => this.request(each, signal)));
    const keys = requests.map((each) => this.keyOf(each));
    const outcomes: (EngineOutcome | undefined)[] = keys.map((key) => {
      const stored = cache?.get(key);
      return stored ? sharedAnswer(stored.response) : undefined;
    });
    const waits: Promise<void>[] = [];
    const missing: number[] = [];
    keys.forEach((key, position) => {
      if (outcomes[position]) return;
      const running = this.inFlight.get(key);
      if (!running) return missing.push(position);
      waits.push(
        running.then((outcome) => {
          outcomes[position] = outcome.status === 'answered' ? sharedAnswer(outcome.response) : outcome;
        }),
      );
    });
    if (missing.length > 0) {
      const started = this.withSlot(signal, (waited) =>
        this.askMissing(
          request,
          missing.map((position) => keys[position]!),
          signal,
          waited,
        ),
      );
      missing.forEach((position, order) => {
        const one = started.then((answers) => answers[order]!);
        // Only another request for the same key awaits this; with none, its failure is the caller's to see.
        one.catch(() => undefined);
        this.inFlight.set(keys[position]!, one);
      });
      waits.push(
        started
          .then((answers) => missing.forEach((position, order) => (outcomes[position] = answers[order])))
          .finally(() => missing.forEach((position) => this.inFlight.delete(keys[position]!))),
      );
    }
    await settleAll(waits);
    return outcomes.map((outcome) => outcome!);
  }

  /** Asks the answers of `keys` (none cached when the lookup was made), holding one slot; see {@link requestSamples}. */
  private async askMissing(
    request: TeacherRequest,
    keys: readonly string[],
    signal: AbortSignal,
    waited: boolean,
  ): Promise<EngineOutcome[]> {
    const { cache } = this.options;
    const answers = new Map<string, EngineOutcome>();
    // Another process sharing the cache may have answered some while we waited for the slot.
    for (const key of waited ? keys : []) {
      const stored = cache?.get(key);
      if (stored) answers.set(key, sharedAnswer(stored.response));
    }
    let remaining = keys.filter((key) => !answers.has(key));
    while (remaining.length > 0) {
      const outcome = await this.paidCall(request, remaining.length, signal);
      if (outcome.status !== 'answered') {
        for (const key of remaining) answers.set(key, outcome);
        break;
      }
      const answered = remaining.slice(0, outcome.responses.length);
      await this.commitPaid(answered, outcome.responses);
      answered.forEach((key, order) =>
        answers.set(key, { status: 'answered', response: outcome.responses[order]!, cached: false, attempts: outcome.attempts }),
      );
      remaining = remaining.slice(answered.length);
    }
    return keys.map((key) => answers.get(key)!);
  }

  /**
   * One paid call (`count` answers), with its retries, when the budget admits it; the spend is
   * counted before the slot is given back.
   */
  private async paidCall(request: TeacherRequest, count: number, signal: AbortSignal): Promise<CallOutcome> {
    if (this.options.admitPaidRequest && !this.options.admitPaidRequest()) return { status: 'skipped', reason: 'budget' };
    let outcome: CallOutcome;
    this.callsOut++;
    try {
      outcome = await this.attempt(request, count, signal, true);
    } finally {
      this.callsOut--;
    }
    if (outcome.status === 'answered') this.options.onPaidAnswer?.({ usage: outcome.billed });
    return outcome;
  }

  /**
   * Commits paid answers, the first under the first key and so on, before the caller parses or
   * writes anything: a kill from here on loses nothing paid for. Answers arriving in the same turn of
   * the event loop share one transaction; with no other call out, none can join these, so they are
   * committed at once.
   */
  private async commitPaid(keys: readonly string[], responses: readonly TeacherResponse[]): Promise<void> {
    const { cache, teacher } = this.options;
    if (!cache) return;
    const origin: CacheEntryOrigin = {
      pluginId: this.options.pluginId,
      pluginVersion: this.options.pluginVersion,
      provider: teacher.provider,
      model: teacher.model,
    };
    const createdAt = this.options.clock.now();
    const commits = keys.map((key, order) => ({
      key,
      response: responses[order]!,
      committed: cache.commit(key, origin, responses[order]!, createdAt),
    }));
    if (this.callsOut === 0) cache.flushCommits();
    for (const { key, response, committed } of commits) {
      try {
        await committed;
      } catch (error) {
        if (!this.options.onUncommitted) throw error;
        this.options.onUncommitted({ key, origin, response, createdAt }, error);
      }
    }
  }

  /** Runs `work` holding a slot; `waited` says whether it had to wait for one. */
  private async withSlot<Result>(signal: AbortSignal, work: (waited: boolean) => Promise<Result>): Promise<Result> {
    if (signal.aborted) throw signal.reason;
    const waited = !this.semaphore.tryAcquire();
    if (waited) await this.semaphore.acquire(signal);
    try {
      return await work(waited);
    } finally {
      this.semaphore.release();
    }
  }

  /**
   * Attempts of one call for `count` answers, with retries; `limited` applies the rate limits. An
   * answered call brings between 1 and `count` answers: the empty ones are left out.
   */
  private async attempt(request: TeacherRequest, count: number, signal: AbortSignal, limited: boolean): Promise<CallOutcome> {
    const { teacher, clock, events, httpSettings, tokenCounter } = this.options;
    const estimatedTokens = limited && this.rateLimiter.active ? tokenEstimate(request, count, teacher, tokenCounter) : 0;
    for (let attempt = 0; ; attempt++) {
      const grant = limited ? await this.rateLimiter.acquire(estimatedTokens, signal) : null;
      let error: unknown;
      try {
        const responses = await this.callWithTimeout(request, count);
        const usage = totalUsage(responses);
        grant?.correct(usage.promptTokens + usage.completionTokens);
        const answers = nonEmptyAnswers(responses);
        this.refusalsInARow = 0;
        return { status: 'answered', responses: answers, billed: usage, attempts: attempt + 1 };
      } catch (thrown) {
        error = thrown;
      }
      if (isUserError(error)) throw error;
      const attempts = attempt + 1;
      if (error instanceof TeacherRefusedError) {
        this.refusalsInARow++;
        if (this.refusalsInARow >= refusalsBeforeStop) throw this.refusalsStop(error);
        return { status: 'failed', reason: error.message, attempts };
      }
      const retryable = error instanceof TeacherRetryableError ? error : null;
      const reason = describe(error);
      if (!retryable || attempt >= this.maxRetries) {
        return { status: 'failed', reason: retryable ? `${reason} (gave up after ${attempts} attempts)` : reason, attempts };
      }
      // Stopping: the answer this call was for did not come, and no new call is made for it.
      if (signal.aborted) return { status: 'skipped', reason: 'cancelled' };
      const asked = retryable.retryAfterMilliseconds;
      const retryAfter = asked === null ? null : Math.min(asked, this.maxRetryAfterMilliseconds);
      // Only this engine's requests (one teacher, one provider) wait out a rate limit.
      if (retryable.status === 429) this.rateLimiter.pause(retryAfter ?? backoffDelay(attempt, httpSettings, null, this.random));
      const delay = backoffDelay(attempt, httpSettings, retryAfter, this.random);
      events.emit('teacher.retry', {
        example: request.exampleId,
        split: request.split,
        attempt: attempts,
        status: retryable.status,
        delay_ms: Math.round(delay),
        ...(asked !== null && asked > this.maxRetryAfterMilliseconds ? { asked_ms: Math.round(asked) } : {}),
        reason,
      });
      await clock.sleep(delay, signal);
    }
  }

  /** The error that stops the stage once refusals repeat. */
  private refusalsStop(last: TeacherRefusedError): UserError {
    return new UserError({
      message: `the last ${this.refusalsInARow} requests to ${this.options.teacher.model} were all refused, so the others would be too; the last: ${last.message}`,
      plugin: `teacher/${this.options.pluginId}`,
      fix: 'the requests themselves do not suit this model: check the prompt against its context window (a shorter template, or dataset.limit), max_tokens and the model; the refused examples are asked again by the next run',
    });
  }

  /**
   * One call under the per-attempt timeout, measured on the injected clock. The call is raced
   * against its timeout, so a teacher that ignores its signal cannot hold a slot past it. The
   * caller's stop does not reach the call: an answer being paid for is awaited (see the class).
   *
   * The teacher gets a signal of its own per call, a plain controller's, collected with the call
   * whatever listeners the SDK leaves on it (the `openai` SDK adds one and never removes it; a signal
   * from `AbortSignal.any` would be kept alive by it, and every call with it). The timeout is a plain
   * timer ({@link startTimer}), not a second signal: it almost never fires, and a signal with its
   * listeners and abort event cost about ten times a timer (the engine bench's *timer* step).
   */
  private async callWithTimeout(request: TeacherRequest, count: number): Promise<readonly TeacherResponse[]> {
    const { teacher } = this.options;
    const call = new AbortController();
    const seconds = this.timeoutMilliseconds / 1000;
    // An object, not a `let`: TypeScript does not see the timer set it, and would call the check below dead.
    const timeout = { error: null as TeacherRetryableError | null };
    let rejectOnTimeout: (error: TeacherRetryableError) => void = () => undefined;
    const timedOut = new Promise<never>((_, reject) => (rejectOnTimeout = reject));
    const cancelTimer = startTimer(this.options.clock, this.timeoutMilliseconds, () => {
      timeout.error = new TeacherRetryableError(`no answer within ${seconds} s (timeout)`, null, null);
      call.abort(timeout.error);
      rejectOnTimeout(timeout.error);
    });
    try {
      const answers =
        count === 1 || !teacher.completeSamples
          ? teacher.complete(request, call.signal).then((response) => [response])
          : teacher.completeSamples(request, count, call.signal);
      return await Promise.race([answers, timedOut]);
    } catch (error) {
      // The SDK reports our own timeout abort as a user abort: say what really happened.
      if (timeout.error) throw timeout.error;
      throw error;
    } finally {
      cancelTimer();
    }
  }
}

/**
 * The answers of a call that have text. An answer with no text (`choices: []`, `content: null`, an
 * empty content list) or only whitespace is no answer: never cached or parsed; a call with no answer
 * at all is retried like a malformed one.
 */
function nonEmptyAnswers(responses: readonly TeacherResponse[]): readonly TeacherResponse[] {
  const answers = responses.filter((response) => response.text.trim() !== '');
  if (answers.length > 0) return answers;
  const finishReason = responses[0]?.finishReason;
  const finish = finishReason ? ` (finish reason: ${finishReason})` : '';
  throw new TeacherRetryableError(`empty answer${finish}`, null, null);
}

/** The tokens of a call's answers together: what the provider billed for the call. */
function totalUsage(responses: readonly TeacherResponse[]): TokenUsage {
  return {
    promptTokens: responses.reduce((total, response) => total + response.usage.promptTokens, 0),
    completionTokens: responses.reduce((total, response) => total + response.usage.completionTokens, 0),
  };
}

/**
 * Awaits every promise, then throws the first rejection, if any: work still running (a paid call
 * about to commit its answer) is never left behind by an early rejection.
 */
async function settleAll<Value>(promises: readonly Promise<Value>[]): Promise<Value[]> {
  const settled = await Promise.allSettled(promises);
  const rejected = settled.find((result) => result.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<Value>).value);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
