/** Version of the {@link Teacher} contract. */
export const teacherContractVersion = 1;

/** One chat message sent to a teacher. */
export interface TeacherMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** What the request engine asks a teacher for one example. */
export interface TeacherRequest {
  /** The example this request is for (the `recorded` teacher answers by it). */
  readonly exampleId: string;
  /** Split of the example. */
  readonly split: string;
  readonly messages: readonly TeacherMessage[];
}

/** Token counts reported by the provider. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** A teacher's answer, before parsing. */
export interface TeacherResponse {
  readonly text: string;
  readonly usage: TokenUsage;
  /** Model id the provider says answered. */
  readonly model: string;
  /** Provider's finish reason (`stop`, `length`, `end_turn`, …) when it gives one. */
  readonly finishReason: string | null;
}

/**
 * A failure the request engine may retry. Teachers translate provider errors into this, carrying
 * the wait the provider asked for (`retry-after`, `retry-after-ms`, rate-limit reset headers).
 */
export class TeacherRetryableError extends Error {
  constructor(
    message: string,
    /** Milliseconds the provider asked us to wait, if it said. */
    readonly retryAfterMilliseconds: number | null,
    /** HTTP status, or null for a network error or timeout. */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'TeacherRetryableError';
  }
}

/**
 * A request the provider refused for a reason that asking again will not change: the request itself
 * is wrong for this model (400 context length exceeded, 413, 422). Final for that request; when such
 * refusals repeat, the request engine stops the stage, since every request is then likely refused alike.
 */
export class TeacherRefusedError extends Error {
  constructor(
    message: string,
    /** HTTP status of the refusal. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'TeacherRefusedError';
  }
}

/**
 * A teacher LLM. Teachers make one call and report what happened; retries, rate limits, caching and
 * accounting belong to the core's request engine, so every provider gets them the same way.
 */
export interface Teacher {
  /** Provider name for accounting and price lookup, e.g. `openai`, `anthropic`, `recorded`. */
  readonly provider: string;
  /** Model id sent to the provider. */
  readonly model: string;
  /**
   * Everything besides the messages that changes the answer (temperature, max tokens, base URL…),
   * never secrets. Part of the cache key.
   */
  readonly requestOptions: Readonly<Record<string, unknown>>;
  /** False for teachers whose answers are already stored (the `recorded` teacher). */
  readonly cacheable: boolean;
  /**
   * One call. Throws {@link TeacherRetryableError} for what may succeed later (429, 5xx, 529,
   * timeouts, connection errors, a malformed answer), {@link TeacherRefusedError} for a request the
   * provider refuses as such (400, 413, 422); anything else thrown is final for this request. An
   * answer with no text comes back as it is: the engine treats an empty answer as retryable and
   * never caches it.
   */
  complete(request: TeacherRequest, signal: AbortSignal): Promise<TeacherResponse>;
}
