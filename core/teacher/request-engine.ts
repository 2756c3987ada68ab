import { isUserError } from '../errors/user-error.js';
import { TeacherRetryableError, type Teacher, type TeacherRequest, type TeacherResponse } from '../plugins/kinds/teacher.js';
import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import { backoffDelay } from './backoff.js';
import { teacherCacheKey } from './cache-key.js';
import { RateLimiter } from './rate-limiter.js';
import { Semaphore } from './semaphore.js';
import type { TeacherCache } from './teacher-cache.js';
import type { TokenCounter } from './token-counter.js';

/** The request engine's limits (the pipeline's `teacher.limits`). */
export interface EngineLimits {
  readonly concurrency: number;
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  /** Retries after the first attempt; defaults to the HTTP settings' `maxRetries`. */
  readonly maxRetries?: number;
}

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
   * Told of every paid answer while its slot is still held, so that spend is counted before the
   * next request is admitted (counting later would let one request too many past the budget).
   */
  readonly onPaidAnswer?: (response: TeacherResponse) => void;
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
  | { readonly status: 'skipped'; readonly reason: 'budget' };

/**
 * Sends teacher requests the way every provider should get them: at most `concurrency` at once,
 * within requests- and tokens-per-minute limits, each attempt under a timeout, retried with
 * exponential backoff and full jitter (or the wait the provider asked for), answered from the cache
 * when possible and committed to it before anyone sees the answer. Identical requests in flight are
 * made once. Errors are never cached; a request that still fails after its retries comes back
 * `failed` with the reason rather than throwing, so one bad example does not stop a stage.
 *
 * What does throw: the caller's signal aborting (cancellation), and a {@link UserError} from the
 * teacher (a rejected API key, an unknown model), which would fail every request alike.
 */
export class RequestEngine {
  private readonly semaphore: Semaphore;
  private readonly rateLimiter: RateLimiter;
  private readonly inFlight = new Map<string, Promise<EngineOutcome>>();
  /** Paid calls out (retries and their backoff included): answers that may still join this turn's commit. */
  private callsOut = 0;
  private readonly maxRetries: number;
  private readonly timeoutMilliseconds: number;
  private readonly random: () => number;

  constructor(private readonly options: RequestEngineOptions) {
    this.semaphore = new Semaphore(options.limits.concurrency);
    this.rateLimiter = new RateLimiter(
      { requestsPerMinute: options.limits.requestsPerMinute, tokensPerMinute: options.limits.tokensPerMinute },
      options.clock,
    );
    this.maxRetries = options.limits.maxRetries ?? options.httpSettings.maxRetries;
    this.timeoutMilliseconds = options.timeoutMilliseconds ?? options.httpSettings.timeoutMilliseconds;
    this.random = options.random ?? Math.random;
  }

  /** The cache key of a request (exposed for tests and tools). */
  keyOf(request: TeacherRequest): string {
    const { teacher, pluginId, pluginVersion } = this.options;
    return teacherCacheKey({ pluginId, pluginVersion, model: teacher.model, messages: request.messages, requestOptions: teacher.requestOptions });
  }

  /** Answers one request; see the class comment for what can come back. */
  async request(request: TeacherRequest, signal: AbortSignal): Promise<EngineOutcome> {
    const { teacher, cache } = this.options;
    if (!teacher.cacheable) {
      // Recorded answers: nothing to pay for or cache, and no provider limits to respect.
      return this.withSlot(signal, async () => {
        const outcome = await this.attempt(request, signal, false);
        return outcome.status === 'answered' ? { ...outcome, cached: true, attempts: 0 } : outcome;
      });
    }
    const key = this.keyOf(request);
    const stored = cache?.get(key);
    if (stored) return { status: 'answered', response: stored.response, cached: true, attempts: 0 };

    const running = this.inFlight.get(key);
    if (running) {
      const outcome = await running;
      return outcome.status === 'answered' ? { ...outcome, cached: true, attempts: 0 } : outcome;
    }
    const started = this.withSlot(signal, async (waited) => {
      // Another process sharing the cache may have answered while we waited for a slot (without a
      // wait, the lookup above was made a moment ago, in the same synchronous step).
      const storedMeanwhile = waited ? cache?.get(key) : null;
      if (storedMeanwhile) return { status: 'answered', response: storedMeanwhile.response, cached: true, attempts: 0 } as const;
      if (this.options.admitPaidRequest && !this.options.admitPaidRequest()) return { status: 'skipped', reason: 'budget' } as const;
      let outcome: EngineOutcome;
      this.callsOut++;
      try {
        outcome = await this.attempt(request, signal, true);
      } finally {
        this.callsOut--;
      }
      if (outcome.status === 'answered' && cache) {
        // Committed before the caller parses or writes anything: a kill from here on loses nothing
        // paid for. Answers arriving in the same turn of the event loop share one transaction; with
        // no other call out, none can join this one, so it is committed at once.
        const committed = cache.commit(key, { pluginId: this.options.pluginId, pluginVersion: this.options.pluginVersion, provider: teacher.provider, model: teacher.model }, outcome.response, this.options.clock.now());
        if (this.callsOut === 0) cache.flushCommits();
        await committed;
      }
      if (outcome.status === 'answered') this.options.onPaidAnswer?.(outcome.response);
      return outcome;
    });
    this.inFlight.set(key, started);
    try {
      return await started;
    } finally {
      this.inFlight.delete(key);
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

  /** Attempts with retries; `limited` applies the rate limits. */
  private async attempt(request: TeacherRequest, signal: AbortSignal, limited: boolean): Promise<EngineOutcome> {
    const { teacher, clock, events, httpSettings, tokenCounter } = this.options;
    const maxTokens = Number(teacher.requestOptions.max_tokens ?? 0) || 0;
    const estimatedTokens = limited && this.rateLimiter.active ? (tokenCounter?.countMessages(request.messages) ?? 0) + maxTokens : 0;
    for (let attempt = 0; ; attempt++) {
      const grant = limited ? await this.rateLimiter.acquire(estimatedTokens, signal) : null;
      let error: unknown;
      try {
        const response = await this.callWithTimeout(request, signal);
        grant?.correct(response.usage.promptTokens + response.usage.completionTokens);
        return { status: 'answered', response, cached: false, attempts: attempt + 1 };
      } catch (thrown) {
        error = thrown;
      }
      if (signal.aborted) throw signal.reason;
      if (isUserError(error)) throw error;
      const retryable = error instanceof TeacherRetryableError ? error : null;
      const reason = describe(error);
      if (!retryable || attempt >= this.maxRetries) {
        const attempts = attempt + 1;
        return { status: 'failed', reason: retryable ? `${reason} (gave up after ${attempts} attempts)` : reason, attempts };
      }
      const retryAfter = retryable.retryAfterMilliseconds;
      if (retryable.status === 429) this.rateLimiter.pause(retryAfter ?? backoffDelay(attempt, httpSettings, null, this.random));
      const delay = backoffDelay(attempt, httpSettings, retryAfter, this.random);
      events.emit('teacher.retry', { example: request.exampleId, split: request.split, attempt: attempt + 1, status: retryable.status, delay_ms: Math.round(delay), reason });
      await clock.sleep(delay, signal);
    }
  }

  /**
   * One call under the per-attempt timeout, measured on the injected clock. The call is also raced
   * against the abort, so a teacher that ignores its signal cannot hold a slot past the timeout.
   *
   * The teacher gets a signal of its own per call, linked to the caller's by a listener that is
   * removed when the call settles. Not `AbortSignal.any([signal, timeout])`: the `openai` SDK adds
   * an abort listener to the signal it is given and never removes it, and Node keeps a signal made
   * by `AbortSignal.any` alive for as long as it has listeners (and each one also leaves a weak
   * reference in its long-lived source signal), so every call ever made would stay in memory. A
   * plain controller's signal is collected with the call, listener and all.
   */
  private async callWithTimeout(request: TeacherRequest, signal: AbortSignal): Promise<TeacherResponse> {
    if (signal.aborted) throw signal.reason;
    const call = new AbortController();
    const timer = new AbortController();
    const seconds = this.timeoutMilliseconds / 1000;
    let timedOut = false;
    this.options.clock.sleep(this.timeoutMilliseconds, timer.signal).then(
      () => {
        timedOut = true;
        call.abort(new TeacherRetryableError(`no answer within ${seconds} s (timeout)`, null, null));
      },
      () => undefined,
    );
    const forwardAbort = () => call.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    let rejectOnAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      rejectOnAbort = () => reject(call.signal.reason);
      call.signal.addEventListener('abort', rejectOnAbort, { once: true });
    });
    try {
      return await Promise.race([this.options.teacher.complete(request, call.signal), aborted]);
    } catch (error) {
      // The SDK reports our own timeout abort as a user abort: say what really happened.
      if (timedOut && !signal.aborted) throw call.signal.reason;
      throw error;
    } finally {
      // With a reason: a bare abort() builds a DOMException, stack trace and all, for every call.
      timer.abort(callSettled);
      signal.removeEventListener('abort', forwardAbort);
      if (rejectOnAbort) call.signal.removeEventListener('abort', rejectOnAbort);
    }
  }
}

/** Why the timeout timer of a call is stopped: the call settled first. */
const callSettled = Symbol('the call settled');

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
