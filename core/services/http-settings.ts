/**
 * The one place HTTP behaviour shared by every teacher is set. Teachers hand these to their SDK
 * clients; the request engine applies the retry policy itself, so SDK-internal retries stay off.
 */
export interface HttpSettings {
  /** Per-request timeout in milliseconds. */
  readonly timeoutMilliseconds: number;
  /** Attempts after the first before a request is reported as failed. */
  readonly maxRetries: number;
  /** First backoff delay; doubles each attempt, with full jitter. */
  readonly initialBackoffMilliseconds: number;
  /** Upper bound of one backoff delay. */
  readonly maxBackoffMilliseconds: number;
}

/** Defaults chosen for public LLM APIs: a slow completion may take a minute. */
export const defaultHttpSettings: HttpSettings = {
  timeoutMilliseconds: 60_000,
  maxRetries: 6,
  initialBackoffMilliseconds: 500,
  maxBackoffMilliseconds: 60_000,
};
