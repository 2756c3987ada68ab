import { UserError } from '../errors/user-error.js';
import { TeacherRetryableError } from '../plugins/kinds/teacher.js';
import { retryAfterMilliseconds, type HeaderSource } from './retry-after.js';

/** The parts of an official SDK's error (`openai` and `@anthropic-ai/sdk` share this shape) we read. */
interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly status?: number;
  readonly headers?: HeaderSource;
}

/** What a teacher tells {@link translateProviderError} about itself, for messages that say what to fix. */
export interface ProviderErrorContext {
  /** `OpenAI`, `Anthropic`: named in messages. */
  readonly providerName: string;
  /** `kind/id` of the teacher plugin, for the user error's `plugin` field. */
  readonly plugin: string;
  readonly model: string;
  /** The variable the API key is read from. */
  readonly apiKeyVariable: string;
  /** Current time from the injected clock, for date-valued retry headers. */
  readonly now: number;
}

/**
 * Turns an SDK error into what the request engine understands:
 * - 408, 409, 429, 5xx (529 overloaded included), timeouts and connection errors: {@link TeacherRetryableError},
 *   carrying the wait the provider asked for;
 * - 401, 403, 404: a {@link UserError} (a bad key, a missing permission, an unknown model fail every
 *   request alike, so the engine stops the stage instead of recording thousands of failures);
 * - anything else (400, 413, 422, …): a plain error, final for this one request.
 */
export function translateProviderError(error: unknown, context: ProviderErrorContext): Error {
  const shape = (error ?? {}) as SdkErrorShape;
  const name = shape.name ?? '';
  const status = typeof shape.status === 'number' ? shape.status : undefined;
  const detail = (shape.message ?? String(error)).trim();
  if (status === undefined) {
    if (/Timeout/i.test(name)) return new TeacherRetryableError(`${context.providerName} request timed out`, null, null);
    if (/Connection/i.test(name)) return new TeacherRetryableError(`cannot reach ${context.providerName}: ${detail}`, null, null);
    if (/SyntaxError|JSON/i.test(name) || /JSON/.test(detail)) {
      return new TeacherRetryableError(`${context.providerName} sent a malformed response: ${detail}`, null, null);
    }
    return error instanceof Error ? error : new Error(detail);
  }
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    const wait = retryAfterMilliseconds(shape.headers, context.now, status === 429);
    const what = status === 429 ? 'rate limited' : status === 529 ? 'overloaded' : status >= 500 ? 'server error' : 'try again';
    return new TeacherRetryableError(`${context.providerName} ${what} (${status}): ${detail}`, wait, status);
  }
  if (status === 401) {
    return new UserError({
      message: `${context.providerName} rejected the API key (401): ${detail}`,
      plugin: context.plugin,
      fix: `set ${context.apiKeyVariable} to a valid key (or the teacher's api_key option)`,
    });
  }
  if (status === 403) {
    return new UserError({
      message: `${context.providerName} refused access (403): ${detail}`,
      plugin: context.plugin,
      fix: `check that the key in ${context.apiKeyVariable} may use model "${context.model}"`,
    });
  }
  if (status === 404) {
    return new UserError({
      message: `${context.providerName} does not know model "${context.model}" or the endpoint (404): ${detail}`,
      plugin: context.plugin,
      fix: 'check the teacher\'s model and base_url options',
    });
  }
  return new Error(`${context.providerName} refused the request (${status}): ${detail}`);
}
