import type { Clock } from '../services/clock.js';

/** Limits of a {@link RateLimiter}; an absent limit does not limit. */
export interface RateLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
}

/** A slot taken from the limiter; correct its token estimate once the real usage is known. */
export interface RateLimitGrant {
  correct(actualTokens: number): void;
}

/**
 * A request's tokens as the limiter is given them: a number, or an upper bound with the exact count
 * to ask for only when the bound would make a request wait (see {@link RateLimiter.acquire}).
 */
export type TokenEstimate = number | { readonly bound: number; readonly exact: () => number };

interface WindowEntry {
  readonly time: number;
  tokens: number;
  /** The exact count of an entry recorded with an upper bound, until it is asked for or corrected. */
  exact: (() => number) | undefined;
  /** False once the entry has left the window: a late correction must not change the window's total. */
  inWindow: boolean;
}

const windowMilliseconds = 60_000;

/** The grant of a limiter without limits: there is no estimate to correct. */
const noLimitGrant: RateLimitGrant = { correct: () => undefined };

/**
 * Requests-per-minute and tokens-per-minute limits over a sliding one-minute window, on the injected
 * clock. A request is admitted with an estimate of its tokens (prompt tokens counted before the call,
 * or a bound of them, plus the completion allowance); the estimate is replaced by the provider's real
 * usage afterwards, so the window reflects what was really spent. Waiters are served first come,
 * first served.
 */
export class RateLimiter {
  /** The window's entries, oldest first, from {@link first} on. */
  private window: WindowEntry[] = [];
  /**
   * Where the window starts in {@link window}: entries leave by moving it on. `Array.shift` copies a
   * large array on every call (measured in Node 20: about 50 µs per shift at 20,000 entries, a minute
   * of requests at a few hundred per second), so the array is cut only once half of it has left.
   */
  private first = 0;
  /**
   * The tokens of the entries in the window, kept up to date as entries come, go and are corrected:
   * summing the window at every request would cost a minute of requests per request (measured on
   * the engine bench: the largest cost of a tokens-per-minute limit at a few thousand requests/s).
   */
  private windowTokens = 0;
  /** Entries of the window still recorded with an upper bound (`exact` set). */
  private bounded = 0;
  private queue: Promise<void> = Promise.resolve();
  private pausedUntil = 0;

  constructor(
    private readonly limits: RateLimits,
    private readonly clock: Clock,
  ) {}

  /** Whether any limit is set (without one, `acquire` returns at once). */
  get active(): boolean {
    return this.limits.requestsPerMinute !== undefined || this.limits.tokensPerMinute !== undefined || this.pausedUntil > 0;
  }

  /** Everyone waits until `milliseconds` from now: a provider said it is rate limiting us (429). */
  pause(milliseconds: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + milliseconds);
  }

  /**
   * Waits until a request of `estimate` tokens fits in the window, then records it. An estimate given
   * as a bound is recorded as the bound; the exact counts (this request's and those of the window's
   * bounded entries) are asked for only when the bounds would make this request wait, so that the
   * decision is the one exact counts give, and a limit far from binding costs no counting (an exact
   * count with a tokenizer costs more CPU than the provider call: measured on the engine bench, about
   * 150 µs for a 40-token prompt with `js-tiktoken`).
   */
  acquire(estimate: TokenEstimate, signal?: AbortSignal): Promise<RateLimitGrant> {
    // Without a limit or a pause nobody ever waits, and the window is never read: recording every
    // request in it would keep a minute of requests in memory for nothing.
    if (!this.active) return Promise.resolve(noLimitGrant);
    const turn = this.queue.then(() => this.waitForRoom(estimate, signal));
    // The next waiter queues behind this one whether it succeeds or is aborted.
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async waitForRoom(estimate: TokenEstimate, signal?: AbortSignal): Promise<RateLimitGrant> {
    let tokens = typeof estimate === 'number' ? estimate : estimate.bound;
    let exact = typeof estimate === 'number' ? undefined : estimate.exact;
    for (;;) {
      const now = this.clock.now();
      this.dropEntriesBefore(now - windowMilliseconds);
      let wait = this.waitFor(tokens, now);
      if (wait > 0 && this.limits.tokensPerMinute !== undefined && (exact || this.bounded > 0)) {
        // The bounds would make this request wait: decide on exact counts, as without bounds.
        if (exact) [tokens, exact] = [exact(), undefined];
        this.countBoundedEntries();
        wait = this.waitFor(tokens, now);
      }
      if (wait <= 0) {
        // Only the per-minute limits read the window; a pause alone does not need it.
        if (this.limits.requestsPerMinute === undefined && this.limits.tokensPerMinute === undefined) return noLimitGrant;
        const entry: WindowEntry = { time: now, tokens, exact, inWindow: true };
        this.window.push(entry);
        this.windowTokens += tokens;
        if (exact) this.bounded++;
        return { correct: (actualTokens) => this.setTokens(entry, actualTokens) };
      }
      await this.clock.sleep(wait, signal);
    }
  }

  /** Replaces an entry's tokens (by its exact count or its real usage), keeping the window's total. */
  private setTokens(entry: WindowEntry, tokens: number): void {
    if (entry.inWindow) {
      this.windowTokens += tokens - entry.tokens;
      if (entry.exact) this.bounded--;
    }
    entry.tokens = tokens;
    entry.exact = undefined;
  }

  /** Replaces the bounds of the window's entries by their exact counts. */
  private countBoundedEntries(): void {
    for (let index = this.first; this.bounded > 0 && index < this.window.length; index++) {
      const entry = this.window[index]!;
      if (entry.exact) this.setTokens(entry, entry.exact());
    }
  }

  /** Takes the entries made at or before `cutoff` out of the window. */
  private dropEntriesBefore(cutoff: number): void {
    const { window } = this;
    while (this.first < window.length && window[this.first]!.time <= cutoff) {
      const leaving = window[this.first++]!;
      leaving.inWindow = false;
      this.windowTokens -= leaving.tokens;
      if (leaving.exact) this.bounded--;
    }
    if (this.first > 0 && this.first * 2 >= window.length) {
      this.window = window.slice(this.first);
      this.first = 0;
    }
  }

  /** Milliseconds until a request of `tokens` may start (0 or less: now). */
  private waitFor(tokens: number, now: number): number {
    let wait = this.pausedUntil - now;
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    const requestLimit = requestsPerMinute === undefined ? undefined : Math.max(1, Math.floor(requestsPerMinute));
    const entries = this.window.length - this.first;
    if (requestLimit !== undefined && entries >= requestLimit) {
      // Room appears when enough of the oldest requests leave the window.
      const freeing = this.window[this.window.length - requestLimit]!;
      wait = Math.max(wait, freeing.time + windowMilliseconds - now);
    }
    if (tokensPerMinute !== undefined && entries > 0) {
      let used = this.windowTokens;
      // A request larger than the whole limit is let through alone rather than never.
      const allowed = Math.max(0, tokensPerMinute - Math.min(tokens, tokensPerMinute));
      for (let index = this.first; index < this.window.length; index++) {
        if (used <= allowed) break;
        const entry = this.window[index]!;
        used -= entry.tokens;
        wait = Math.max(wait, entry.time + windowMilliseconds - now);
      }
    }
    return wait;
  }
}
