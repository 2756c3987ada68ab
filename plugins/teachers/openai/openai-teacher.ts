import {
  TeacherRetryableError,
  type TeacherDescriptor,
  type TeacherMessage,
  type TeacherRequest,
  type TeacherResponse,
  type TokenLogprob,
} from '../../../core/plugins/kinds/teacher.js';
import { greedySamplingRefusal } from '../../../core/teacher/ask-samples.js';
import { apiKeyFix, requiredApiKeyVariables, resolveApiKey, type ApiKeyLookup } from '../../../core/teacher/api-key.js';
import { translateProviderError, type ProviderErrorContext } from '../../../core/teacher/provider-error.js';
import { openAiAccounting } from './openai-accounting.js';

/** Options of the {@link openAiTeacher}. */
export interface OpenAiTeacherOptions {
  readonly model: string;
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly system_prompt?: string;
  readonly timeout_seconds?: number;
  /** An OpenAI-compatible server: vLLM, Ollama, LM Studio, a proxy. */
  readonly base_url?: string;
  readonly api_key?: string;
  /** Ask for each answer token's log-probability (chat completions `logprobs`), for the label's confidence. */
  readonly logprobs?: boolean;
}

const defaults = { temperature: 0, max_tokens: 256, timeout_seconds: 60 } as const;

/**
 * What `complete` reads of a chat completion, as it may arrive: a proxy or a broken server need not
 * send what the SDK's types promise, so every part may be missing.
 */
interface ReceivedCompletion {
  readonly choices?: ReceivedChoice[];
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number } | null;
  readonly model?: string;
}

/** One choice of a chat completion as it may arrive. */
interface ReceivedChoice {
  readonly index?: number;
  readonly message?: { readonly content?: string | null } | null;
  readonly finish_reason?: string | null;
  /** Present when `logprobs: true` was asked: one entry per answer token. */
  readonly logprobs?: { readonly content?: readonly { readonly token?: unknown; readonly logprob?: unknown }[] | null } | null;
}

/** The choices of a chat completion as it arrived, in their `index` order. */
function receivedChoices(completion: ReceivedCompletion | null | undefined): ReceivedChoice[] {
  if (!completion || !Array.isArray(completion.choices)) {
    // A proxy's or server's broken answer: asking again may well get a proper one.
    throw new TeacherRetryableError(`OpenAI answered without a "choices" list: ${JSON.stringify(completion).slice(0, 200)}`, null, null);
  }
  return [...completion.choices].sort((left, right) => (left.index ?? 0) - (right.index ?? 0));
}

/** A choice's token log-probabilities, when they came whole (a malformed entry drops them all: no confidence beats a wrong one). */
function tokenLogprobsOf(choice: ReceivedChoice | undefined): { tokenLogprobs?: TokenLogprob[] } {
  const content: unknown = choice?.logprobs?.content;
  if (!Array.isArray(content)) return {};
  const tokens: TokenLogprob[] = [];
  for (const entry of content as readonly ({ readonly token?: unknown; readonly logprob?: unknown } | null)[]) {
    if (typeof entry?.token !== 'string' || typeof entry.logprob !== 'number' || !Number.isFinite(entry.logprob)) return {};
    tokens.push({ token: entry.token, logprob: entry.logprob });
  }
  return { tokenLogprobs: tokens };
}

/** One choice as a teacher response, with the usage given. */
function choiceResponse(choice: ReceivedChoice | undefined, usage: TeacherResponse['usage'], model: string): TeacherResponse {
  return {
    // No choice or no content (a refusal, a tool call) is an empty text, which the engine retries and never caches.
    text: choice?.message?.content ?? '',
    usage,
    model,
    finishReason: choice?.finish_reason ?? null,
    ...tokenLogprobsOf(choice),
  };
}

/** The teacher's response in a chat completion as it arrived; `model` stands in when the answer names none. */
function completionResponse(completion: ReceivedCompletion | null | undefined, model: string): TeacherResponse {
  const choices = receivedChoices(completion);
  const usage = { promptTokens: completion?.usage?.prompt_tokens ?? 0, completionTokens: completion?.usage?.completion_tokens ?? 0 };
  return choiceResponse(choices[0], usage, completion?.model || model);
}

/**
 * `total` shared out in whole numbers in proportion to `weights` (largest remainders first, ties to
 * the earliest), so that the shares add up to `total` exactly; equal shares when every weight is 0.
 */
export function shareOut(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((left, right) => left + right, 0);
  const fair = weights.map((weight) => (sum > 0 ? (total * weight) / sum : total / weights.length));
  const shares = fair.map(Math.floor);
  const order = fair
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((left, right) => right.remainder - left.remainder);
  let left = total - shares.reduce((first, second) => first + second, 0);
  for (const { index } of order) {
    if (left <= 0) break;
    shares[index]!++;
    left--;
  }
  return shares;
}

/**
 * The `count` answers of a completion asked with `n`, in order, each with its share of the usage the
 * completion billed for all of them, so that the answers' tokens add up to what the provider
 * charged: the prompt (billed once) shared equally among the answers with text, the completion
 * tokens by each answer's own tokens (its log-probability entries when they came, else its length in
 * characters). An empty answer, which the engine drops, gets no share while another has text.
 */
function completionResponses(completion: ReceivedCompletion | null | undefined, model: string, count: number): TeacherResponse[] {
  const choices = receivedChoices(completion).slice(0, count);
  const answered = choices.map((choice) => ((choice.message?.content ?? '').trim() !== '' ? 1 : 0));
  const promptShares = shareOut(completion?.usage?.prompt_tokens ?? 0, answered);
  const completionShares = shareOut(
    completion?.usage?.completion_tokens ?? 0,
    choices.map((choice) => tokenLogprobsOf(choice).tokenLogprobs?.length ?? (choice.message?.content ?? '').length),
  );
  return choices.map((choice, index) =>
    choiceResponse(choice, { promptTokens: promptShares[index]!, completionTokens: completionShares[index]! }, completion?.model || model),
  );
}

/** OpenAI's own API: where a key from the environment may go. */
const officialBaseUrl = 'https://api.openai.com/v1';

/**
 * Reasoning models (o1, o3, o4, gpt-5) take `max_completion_tokens` and only their default
 * temperature; every other chat model, and every OpenAI-compatible server, takes `max_tokens`.
 */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

/** Where the teacher's key comes from: its `api_key` option, else $OPENAI_API_KEY for OpenAI's own API only. */
function keyLookupOf(options: OpenAiTeacherOptions): Omit<ApiKeyLookup, 'environment'> {
  return {
    option: options.api_key,
    variable: 'OPENAI_API_KEY',
    plugin: 'teacher/openai',
    baseUrl: options.base_url,
    providerHost: 'api.openai.com',
  };
}

/** The `openai` teacher: one chat-completions call per example, through the official `openai` SDK. */
export const openAiTeacher: TeacherDescriptor<OpenAiTeacherOptions> = {
  id: 'openai',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'OpenAI chat completions (or any OpenAI-compatible server via base_url: vLLM, Ollama, LM Studio).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['model'],
    properties: {
      model: { type: 'string', minLength: 1, description: 'Model id, e.g. gpt-4o-mini.' },
      temperature: {
        type: 'number',
        minimum: 0,
        maximum: 2,
        default: defaults.temperature,
        description: 'Sampling temperature; 0 gives the likeliest answer (ignored for reasoning models, which take only their own).',
      },
      max_tokens: { type: 'integer', minimum: 1, default: defaults.max_tokens, description: 'Longest completion, in tokens.' },
      system_prompt: { type: 'string', description: 'Sent as the system message before the prompt.' },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: defaults.timeout_seconds, description: 'Per-request timeout.' },
      base_url: { type: 'string', format: 'uri', description: 'OpenAI-compatible endpoint, e.g. http://localhost:8000/v1.' },
      api_key: {
        type: 'string',
        secret: true,
        description:
          "Defaults to $OPENAI_API_KEY, for OpenAI's own API only: a base_url gets a key only when named here. Redacted everywhere.",
      },
      logprobs: {
        type: 'boolean',
        default: false,
        description:
          "Ask for each answer token's log-probability: with one answer per example, the record's confidence is the probability of the label's tokens (docs/confidence.md). Part of the cache key.",
      },
    },
  },
  exampleOptions: { model: 'gpt-4o-mini', temperature: 0, max_tokens: 256 },
  comparisonOptions: { model: 'gpt-4o-mini' },
  accounting: (options) => openAiAccounting(options.model, options.system_prompt),
  requirements: (options) => ({ variables: requiredApiKeyVariables(keyLookupOf(options), 'OpenAI') }),

  async create(options, dependencies) {
    const plugin = 'teacher/openai';
    const keyLookup = { ...keyLookupOf(options), environment: dependencies.environment };
    const apiKey = resolveApiKey(keyLookup);
    const { default: OpenAI } = await import('openai');
    const temperature = options.temperature ?? defaults.temperature;
    const maxTokens = options.max_tokens ?? defaults.max_tokens;
    const timeoutMilliseconds = (options.timeout_seconds ?? defaults.timeout_seconds) * 1000;
    const errorContext: Omit<ProviderErrorContext, 'now'> = {
      providerName: 'OpenAI',
      plugin,
      model: options.model,
      apiKeyVariable: 'OPENAI_API_KEY',
      apiKeyFix: apiKeyFix(keyLookup),
      errorClasses: { timeout: OpenAI.APIConnectionTimeoutError, connection: OpenAI.APIConnectionError },
      secrets: [apiKey],
    };
    const client = new OpenAI({
      apiKey,
      // Always explicit: the SDK would otherwise read OPENAI_BASE_URL and send the key there.
      baseURL: options.base_url ?? officialBaseUrl,
      // The request engine retries, with the pipeline's limits and backoff: the SDK must not as well.
      maxRetries: 0,
      timeout: timeoutMilliseconds,
    });
    const reasoning = isReasoningModel(options.model);
    const logprobs = options.logprobs ?? false;
    /** One chat-completions call for `count` answers (`n`, sent only above 1). */
    const create = async (request: TeacherRequest, count: number, signal: AbortSignal) => {
      const messages: TeacherMessage[] = options.system_prompt ? [{ role: 'system', content: options.system_prompt }] : [];
      messages.push(...request.messages);
      try {
        return await client.chat.completions.create(
          {
            model: options.model,
            messages: messages.map((message) => ({ role: message.role, content: message.content })),
            // `max_tokens` is deprecated for OpenAI's reasoning models only; see isReasoningModel.
            // eslint-disable-next-line @typescript-eslint/no-deprecated -- what other models and compatible servers take
            ...(reasoning ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens, temperature }),
            ...(count > 1 ? { n: count } : {}),
            ...(logprobs ? { logprobs: true } : {}),
          },
          { signal },
        );
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw translateProviderError(error, { ...errorContext, now: dependencies.clock.now() });
      }
    };
    return {
      ...openAiAccounting(options.model, options.system_prompt),
      requestOptions: {
        temperature,
        max_tokens: maxTokens,
        system_prompt: options.system_prompt ?? null,
        base_url: options.base_url ?? null,
        // Only when asked, so that the answers cached before the option existed keep their keys.
        ...(logprobs ? { logprobs: true } : {}),
      },
      cacheable: true,
      timeoutMilliseconds,
      // Reasoning models take only their own temperature (1), so they do sample.
      samplingRefusal: !reasoning && temperature === 0 ? greedySamplingRefusal : null,
      async complete(request, signal) {
        return completionResponse(await create(request, 1, signal), options.model);
      },
      async completeSamples(request, count, signal) {
        return completionResponses(await create(request, count, signal), options.model, count);
      },
    };
  },
};
