/** Time as the core sees it; injected so that rate limiting and backoff can be tested without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `milliseconds`, or rejects with the signal's reason when it aborts first. */
  sleep(milliseconds: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `callback` after `milliseconds` unless the function returned is called first. Optional:
   * {@link startTimer} makes such a timer from {@link sleep} for a clock without it. It exists for
   * timers that almost never fire, like the timeout of every teacher call: an abort signal to cancel
   * a sleep costs a controller, two listeners and an abort event per call.
   */
  after?(milliseconds: number, callback: () => void): () => void;
}

/** Why the sleep behind a {@link startTimer} timer ended: it was cancelled. */
const timerCancelled = Symbol('the timer was cancelled');

/** Starts a timer on `clock` (its {@link Clock.after}, or a cancellable sleep); returns the function that cancels it. */
export function startTimer(clock: Clock, milliseconds: number, callback: () => void): () => void {
  if (clock.after) return clock.after(milliseconds, callback);
  const cancel = new AbortController();
  clock.sleep(milliseconds, cancel.signal).then(callback, () => undefined);
  // With a reason: a bare abort() builds a DOMException, stack trace and all.
  return () => cancel.abort(timerCancelled);
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, milliseconds);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  after: (milliseconds, callback) => {
    const timer = setTimeout(callback, milliseconds);
    return () => clearTimeout(timer);
  },
};
