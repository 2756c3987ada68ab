import { redactText } from '../config/redact.js';
import { UserError } from '../errors/user-error.js';
import { TeacherRefusedError, TeacherRetryableError } from '../plugins/kinds/teacher.js';
import { retryAfterMilliseconds, type HeaderSource } from './retry-after.js';

/** The parts of an official SDK's error (`openai` and `@anthropic-ai/sdk` share this shape) we read. */
interface SdkErrorShape {
  readonly message?: string;
  readonly status?: number;
  readonly headers?: HeaderSource;
  readonly cause?: unknown;
}

/** A class to test errors against with `instanceof`. */
export type ErrorClass = abstract new (...parameters: never[]) => Error;

/**
 * The SDK's own error classes for failures without an HTTP status. Both official SDKs export them
 * (`OpenAI.APIConnectionError`, `Anthropic.APIConnectionTimeoutError`, …); the teacher hands them
 * over because errors must be recognised by type: the `openai` SDK 6.x names every error "Error".
 */
export interface SdkErrorClasses {
  /** The SDK's timeout (`APIConnectionTimeoutError`). */
  readonly timeout: ErrorClass;
  /** Connection failures (`APIConnectionError`; the timeout class extends it in both SDKs). */
  readonly connection: ErrorClass;
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
  /** The fix for a rejected key (401), when it is not "set the variable" (see `apiKeyFix`). */
  readonly apiKeyFix?: string;
  /** Current time from the injected clock, for date-valued retry headers. */
  readonly now: number;
  /** The SDK's error classes, to recognise timeouts and connection failures by type. */
  readonly errorClasses?: SdkErrorClasses;
  /**
   * Values never to repeat (the API key): providers echo parts of a request in their error text, and
   * that text goes to the terminal, the records and the reports.
   */
  readonly secrets?: readonly string[];
}

// Codes of Node's network errors and undici's socket errors, found on an error's `cause` chain.
const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const connectionCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** The error and its causes, outermost first (bounded: a cause chain may loop). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 8; current = (current as SdkErrorShape).cause) {
    if (chain.includes(current)) break;
    chain.push(current);
  }
  return chain;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether a failure without an HTTP status is a timeout, a broken connection, or neither, by the
 * SDK's error classes and the codes on the cause chain. A body cut off half way surfaces from
 * `fetch` as a bare `TypeError: terminated` whose cause is the socket error, so the chain is read
 * whatever the outer error is.
 */
function networkFailure(error: unknown, classes: SdkErrorClasses | undefined): 'timeout' | 'connection' | null {
  if (classes && error instanceof classes.timeout) return 'timeout';
  const chain = causeChain(error);
  if (chain.some((each) => timeoutCodes.has(codeOf(each) ?? '') || (each as Error | null)?.name === 'TimeoutError')) return 'timeout';
  if (classes && error instanceof classes.connection) return 'connection';
  if (chain.some((each) => connectionCodes.has(codeOf(each) ?? ''))) return 'connection';
  // undici's own wording when a request or a body read fails below HTTP.
  if (error instanceof TypeError && /^(fetch failed|terminated)$/.test(error.message)) return 'connection';
  return null;
}

/** What went wrong below the SDK's summary ("Connection error."): the innermost cause's code and text. */
function innermostCause(error: unknown): string {
  const chain = causeChain(error);
  const innermost = chain.at(-1) as (Error & { code?: string }) | undefined;
  if (chain.length < 2 || !innermost) return '';
  const code = codeOf(innermost);
  return ` (${[code, innermost.message].filter(Boolean).join(': ')})`;
}

/**
 * Turns an SDK error into what the request engine understands:
 * - 408, 409, 425, 429, 5xx (529 overloaded included), timeouts, broken connections and truncated or
 *   malformed bodies: {@link TeacherRetryableError}, carrying the wait the provider asked for;
 * - 401, 403, 404: a {@link UserError} (a bad key, a missing permission, an unknown model fail every
 *   request alike, so the engine stops the stage instead of recording thousands of failures);
 * - any other 4xx (400 context length exceeded, 413, 422): {@link TeacherRefusedError}, final for this
 *   one request (the engine stops the stage when such refusals repeat);
 * - anything else: a plain error, final for this one request.
 *
 * Errors are recognised by type, status and cause, never by name. Every message has the context's
 * secrets redacted: providers echo keys in their error text.
 */
export function translateProviderError(error: unknown, context: ProviderErrorContext): Error {
  const shape = (error ?? {}) as SdkErrorShape;
  const status = typeof shape.status === 'number' ? shape.status : undefined;
  const redact = (text: string) => redactText(text, context.secrets ?? []);
  const detail = redact((shape.message ?? String(error)).trim());
  const provider = context.providerName;
  if (status === undefined) {
    const failure = networkFailure(error, context.errorClasses);
    if (failure === 'timeout') return new TeacherRetryableError(`${provider} request timed out: ${detail}`, null, null);
    if (failure === 'connection')
      return new TeacherRetryableError(`cannot reach ${provider}: ${detail}${redact(innermostCause(error))}`, null, null);
    if (error instanceof SyntaxError || /JSON/.test(detail))
      return new TeacherRetryableError(`${provider} sent a malformed response: ${detail}`, null, null);
    return new Error(detail);
  }
  if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
    const wait = retryAfterMilliseconds(shape.headers, context.now, status === 429);
    const what = status === 429 ? 'rate limited' : status === 529 ? 'overloaded' : status >= 500 ? 'server error' : 'try again';
    return new TeacherRetryableError(`${provider} ${what} (${status}): ${detail}`, wait, status);
  }
  if (status === 401) {
    return new UserError({
      message: `${provider} rejected the API key (401): ${detail}`,
      plugin: context.plugin,
      fix: context.apiKeyFix ?? `set ${context.apiKeyVariable} to a valid key (or the teacher's api_key option)`,
    });
  }
  if (status === 403) {
    return new UserError({
      message: `${provider} refused access (403): ${detail}`,
      plugin: context.plugin,
      fix: `check that the key in ${context.apiKeyVariable} may use model "${context.model}"`,
    });
  }
  if (status === 404) {
    return new UserError({
      message: `${provider} does not know model "${context.model}" or the endpoint (404): ${detail}`,
      plugin: context.plugin,
      fix: "check the teacher's model and base_url options",
    });
  }
  if (status >= 400) return new TeacherRefusedError(`${provider} refused the request (${status}): ${detail}`, status);
  return new Error(`${provider} answered ${status}: ${detail}`);
}
