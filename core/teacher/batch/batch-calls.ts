import { isUserError } from '../../errors/user-error.js';
import { TeacherRetryableError } from '../../plugins/kinds/teacher.js';
import type { Clock } from '../../services/clock.js';
import type { EventStream } from '../../services/event-stream.js';
import type { HttpSettings } from '../../services/http-settings.js';
import { backoffDelay } from '../backoff.js';

/** What {@link withBatchRetries} needs: the engine's retry settings, for batch API calls. */
export interface BatchRetrySettings {
  readonly clock: Clock;
  readonly httpSettings: HttpSettings;
  /** Retries after the first attempt (`teacher.limits.max_retries`, else the HTTP settings'). */
  readonly maxRetries: number;
  readonly events: EventStream;
  readonly random: () => number;
}

/**
 * Runs one batch API call (`attempt` counts from 0), retrying a {@link TeacherRetryableError} with
 * the request engine's backoff (exponential with full jitter, or the wait the provider asked for),
 * each retry told as a `teacher.retry` event with `operation` and the batch. Anything else, and the
 * last retryable error, is thrown; a stop during a backoff throws the signal's reason.
 */
export async function withBatchRetries<Result>(
  settings: BatchRetrySettings,
  what: { readonly operation: string; readonly batch?: string | null },
  signal: AbortSignal,
  call: (attempt: number) => Promise<Result>,
): Promise<Result> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (isUserError(error) || !(error instanceof TeacherRetryableError) || attempt >= settings.maxRetries) throw error;
      const delay = backoffDelay(attempt, settings.httpSettings, error.retryAfterMilliseconds, settings.random);
      settings.events.emit('teacher.retry', {
        operation: what.operation,
        batch: what.batch ?? null,
        attempt: attempt + 1,
        status: error.status,
        delay_ms: Math.round(delay),
        reason: error.message,
      });
      await settings.clock.sleep(delay, signal);
    }
  }
}

/** Batch polling settings (`teacher.batch`), in milliseconds. */
export interface PollSettings {
  readonly pollMilliseconds: number;
  readonly maxPollMilliseconds: number;
}

/**
 * The wait before status check number `round + 1` of the running batches: `poll_seconds` doubling
 * each round up to `max_poll_seconds`, jittered by ±20 % so that several runs polling one account
 * drift apart rather than asking in step.
 */
export function pollDelay(round: number, settings: PollSettings, random: () => number): number {
  const base = Math.min(settings.maxPollMilliseconds, settings.pollMilliseconds * 2 ** Math.min(round, 30));
  return base * (0.8 + 0.4 * random());
}
