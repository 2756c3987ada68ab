import type { PluginDescriptor } from '../plugin-descriptor.js';
import type { TeacherBatchApi } from './teacher-batch.js';

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
  /**
   * Which of the example's answers this is when the pipeline asks several (`teacher.samples`), from
   * 0. Absent or 0 is the example's first (and, without sampling, only) answer; from 1 on it is part
   * of the cache key, so raising the number of samples later asks only for the new ones.
   */
  readonly sampleIndex?: number;
}

/** Token counts reported by the provider. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** One token of an answer with its natural-log probability, where the provider returns them (OpenAI `logprobs`). */
export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
}

/** A teacher's answer, before parsing. */
export interface TeacherResponse {
  readonly text: string;
  readonly usage: TokenUsage;
  /** Model id the provider says answered. */
  readonly model: string;
  /** Provider's finish reason (`stop`, `length`, `end_turn`, …) when it gives one. */
  readonly finishReason: string | null;
  /** The answer's tokens with their log-probabilities, when asked for and returned (cached with the answer). */
  readonly tokenLogprobs?: readonly TokenLogprob[];
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

/** Counts the prompt tokens of a chat request before it is sent (rate limits, `distill estimate`). */
export interface TokenCounter {
  /** How the count is made, shown by `distill estimate`: `tiktoken o200k_base`, `approximation …`. */
  readonly method: string;
  /** Whether the count is exact for the provider's tokenizer (false for approximations). */
  readonly exact: boolean;
  /** Tokens of a bare text. */
  countText(text: string): number;
  /** Prompt tokens of a chat request, message framing included. */
  countMessages(messages: readonly TeacherMessage[]): number;
  /**
   * Optional: a cheap upper bound of {@link countMessages}, for a counter whose exact count is costly
   * (a tokenizer). The request engine then counts exactly only when the bound would make a request
   * wait for a tokens-per-minute limit; a limit far from binding costs no tokenizing.
   */
  boundMessages?(messages: readonly TeacherMessage[]): number;
}

/** A price the provider lists for a model, in US dollars per million tokens. */
export interface ListedPrice {
  /** The `provider/model` row it was found under (a dated id takes its family's row), shown to users. */
  readonly key: string;
  readonly prompt: number;
  readonly completion: number;
}

/**
 * What a teacher knows about its provider's counting and charging. It needs no API key and no
 * network, so a teacher's descriptor can answer it before (or without) creating the teacher, as
 * `distill estimate` does. Added in contract version 1; the two methods are optional.
 */
export interface TeacherAccounting {
  /**
   * Provider name for accounting and price lookup, e.g. `openai`, `anthropic`, `recorded`: the
   * first part of a `provider/model` key in the pipeline's `prices:` block.
   */
  readonly provider: string;
  /** Model id sent to the provider. */
  readonly model: string;
  /**
   * Text the teacher sends as a system message before every request's messages, when it has one:
   * counted and paid for like the prompt, so `distill estimate` counts it too.
   */
  readonly systemPrompt?: string;
  /**
   * The provider's token counter for the model (it may load a tokenizer: called only when counts
   * are needed). Without it the tokens-per-minute limit counts only `max_tokens` before a call and
   * the real usage after it, and `distill estimate` leaves the teacher out.
   */
  tokenCounter?(): Promise<TokenCounter>;
  /**
   * The provider's list price for the model, or null when it lists none (an unknown model, a local
   * server). Without the method the teacher has no price. The pipeline's `prices:` block wins either way.
   */
  listedPrice?(): ListedPrice | null;
  /**
   * Share of the real-time price that the provider's batch API charges (0.5 for OpenAI and
   * Anthropic), when the teacher offers batch mode. The pipeline's `prices:` block may override it.
   */
  readonly batchPriceShare?: number;
  /**
   * Whether the teacher asks an example's several answers (`teacher.samples`) in one request whose
   * prompt is billed once (OpenAI's `n`); otherwise each answer is a request of its own, prompt and all.
   * `distill estimate` counts the prompt tokens accordingly.
   */
  readonly samplesShareOnePrompt?: boolean;
}

/**
 * A teacher LLM. Teachers make one call and report what happened; retries, rate limits, caching and
 * accounting belong to the core's request engine, so every provider gets them the same way.
 */
export interface Teacher extends TeacherAccounting {
  /**
   * Everything besides the messages that changes the answer (temperature, max tokens, base URL…),
   * never secrets. Part of the cache key.
   */
  readonly requestOptions: Readonly<Record<string, unknown>>;
  /** False for teachers whose answers are already stored (the `recorded` teacher). */
  readonly cacheable: boolean;
  /**
   * How long the provider's client waits for one answer before giving up, in milliseconds, when the
   * teacher sets such a limit itself (an SDK timeout). The request engine's own timeout is then set
   * a second above it, as a backstop that lets the client's clearer error come first.
   */
  readonly timeoutMilliseconds?: number;
  /**
   * One call. Throws {@link TeacherRetryableError} for what may succeed later (429, 5xx, 529,
   * timeouts, connection errors, a malformed answer), {@link TeacherRefusedError} for a request the
   * provider refuses as such (400, 413, 422); anything else thrown is final for this request. An
   * answer with no text comes back as it is: the engine treats an empty answer as retryable and
   * never caches it.
   */
  complete(request: TeacherRequest, signal: AbortSignal): Promise<TeacherResponse>;
  /**
   * Several answers to one request in one call (OpenAI's `n`), for self-consistency
   * (`teacher.samples`): `count` answers, in order, each billed with its share of the usage. Optional:
   * without it the core makes one {@link Teacher.complete} call per answer. Errors as for `complete`.
   */
  completeSamples?(request: TeacherRequest, count: number, signal: AbortSignal): Promise<TeacherResponse[]>;
  /**
   * Why this teacher cannot give varied answers to one prompt (a temperature fixed at 0, recordings),
   * or null when it can: `teacher.samples` above 1 is refused with this reason. Absent: it can.
   */
  readonly samplingRefusal?: string | null;
  /** The provider's batch API (`teacher.mode: batch`), when the teacher offers one. */
  readonly batch?: TeacherBatchApi;
}

/**
 * The descriptor of a teacher plugin: a {@link PluginDescriptor} that can also give its accounting
 * without creating the teacher, so that `distill estimate` needs no API key.
 */
export interface TeacherDescriptor<Options = Record<string, unknown>> extends PluginDescriptor<Options, Teacher> {
  /**
   * The accounting of a teacher created with these (validated) options: the same provider, model,
   * token counter and price the created teacher has. Optional; without it `distill estimate` leaves
   * the plugin out.
   */
  accounting?(options: Options): TeacherAccounting;
  /**
   * Options of a typical teacher of this provider (a widely used model), which `distill estimate`
   * prices beside the pipeline's own teacher so users see what this provider would cost. Optional.
   */
  readonly comparisonOptions?: Options;
  /**
   * What users must know before sending data through this provider's batch API (e.g. that it is not
   * eligible for zero data retention), shown by the dry run and the docs when `teacher.mode: batch`.
   */
  readonly batchNotice?: string;
}
