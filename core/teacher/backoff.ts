/** Backoff settings (from {@link HttpSettings}). */
export interface BackoffSettings {
  readonly initialBackoffMilliseconds: number;
  readonly maxBackoffMilliseconds: number;
}

/**
 * How long to wait before retry number `attempt + 1` (attempt counts from 0). Exponential backoff
 * with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform draw in
 * [0, min(cap, initial · 2^attempt)], which spreads retries of many parallel requests apart. When the
 * provider said how long to wait, that wait is honoured, plus a small jitter so that every request
 * told the same instant does not return at once.
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  retryAfterMilliseconds: number | null,
  random: () => number = Math.random,
): number {
  if (retryAfterMilliseconds !== null) return retryAfterMilliseconds + random() * Math.min(settings.initialBackoffMilliseconds, 1000);
  const ceiling = Math.min(settings.maxBackoffMilliseconds, settings.initialBackoffMilliseconds * 2 ** attempt);
  return random() * ceiling;
}
