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

interface WindowEntry {
  readonly time: number;
  tokens: number;
}

const windowMilliseconds = 60_000;

/** The grant of a limiter without limits: there is no estimate to correct. */
const noLimitGrant: RateLimitGrant = { correct: () => undefined };

/**
 * Requests-per-minute and tokens-per-minute limits over a sliding one-minute window, on the injected
 * clock. A request is admitted with an estimate of its tokens (prompt tokens counted before the call
 * plus the completion allowance); the estimate is replaced by the provider's real usage afterwards, so
 * the window reflects what was really spent. Waiters are served first come, first served.
 */
export class RateLimiter {
  private readonly window: WindowEntry[] = [];
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

  /** Waits until a request of `estimatedTokens` fits in the window, then records it. */
  acquire(estimatedTokens: number, signal?: AbortSignal): Promise<RateLimitGrant> {
    // Without a limit or a pause nobody ever waits, and the window is never read: recording every
    // request in it would keep a minute of requests in memory for nothing.
    if (!this.active) return Promise.resolve(noLimitGrant);
    const turn = this.queue.then(() => this.waitForRoom(estimatedTokens, signal));
    // The next waiter queues behind this one whether it succeeds or is aborted.
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async waitForRoom(estimatedTokens: number, signal?: AbortSignal): Promise<RateLimitGrant> {
    for (;;) {
      const now = this.clock.now();
      while (this.window.length > 0 && this.window[0]!.time <= now - windowMilliseconds) this.window.shift();
      const wait = this.waitFor(estimatedTokens, now);
      if (wait <= 0) {
        // Only the per-minute limits read the window; a pause alone does not need it.
        if (this.limits.requestsPerMinute === undefined && this.limits.tokensPerMinute === undefined) return noLimitGrant;
        const entry: WindowEntry = { time: now, tokens: estimatedTokens };
        this.window.push(entry);
        return { correct: (actualTokens) => void (entry.tokens = actualTokens) };
      }
      await this.clock.sleep(wait, signal);
    }
  }

  /** Milliseconds until a request of `tokens` may start (0 or less: now). */
  private waitFor(tokens: number, now: number): number {
    let wait = this.pausedUntil - now;
    const { requestsPerMinute, tokensPerMinute } = this.limits;
    const requestLimit = requestsPerMinute === undefined ? undefined : Math.max(1, Math.floor(requestsPerMinute));
    if (requestLimit !== undefined && this.window.length >= requestLimit) {
      // Room appears when enough of the oldest requests leave the window.
      const freeing = this.window[this.window.length - requestLimit]!;
      wait = Math.max(wait, freeing.time + windowMilliseconds - now);
    }
    if (tokensPerMinute !== undefined && this.window.length > 0) {
      let used = this.window.reduce((total, entry) => total + entry.tokens, 0);
      // A request larger than the whole limit is let through alone rather than never.
      const allowed = Math.max(0, tokensPerMinute - Math.min(tokens, tokensPerMinute));
      for (const entry of this.window) {
        if (used <= allowed) break;
        used -= entry.tokens;
        wait = Math.max(wait, entry.time + windowMilliseconds - now);
      }
    }
    return wait;
  }
}
