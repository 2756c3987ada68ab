import type { Clock } from '../../core/services/clock.js';

/**
 * A clock that runs `factor` times faster than real time: `sleep(60_000)` takes 60 ms of real time
 * at factor 1000, while `now()` advances by the full minute. Rate limits, backoff and timeouts keep
 * their real logic and their order of events, and tests need not wait for them.
 */
export function scaledClock(factor: number): Clock & { readonly slept: number[] } {
  const start = Date.now();
  const slept: number[] = [];
  return {
    slept,
    now: () => start + (Date.now() - start) * factor,
    sleep: (milliseconds, signal) =>
      new Promise<void>((resolve, reject) => {
        slept.push(milliseconds);
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, milliseconds / factor);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}
