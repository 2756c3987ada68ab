import type OpenAI from 'openai';
import {
  TeacherRetryableError,
  type TeacherDescriptor,
  type TeacherMessage,
  type TeacherRequest,
  type TeacherResponse,
} from '../../../core/plugins/kinds/teacher.js';
import { apiKeyFix, requiredApiKeyVariables, resolveApiKey, type ApiKeyLookup } from '../../../core/teacher/api-key.js';
import { translateProviderError, type ProviderErrorContext } from '../../../core/teacher/provider-error.js';
import { openAiAccounting } from './openai-accounting.js';
import { openAiBatchApi } from './openai-batch.js';

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
}

const defaults = { temperature: 0, max_tokens: 256, timeout_seconds: 60 } as const;

/** The shortest time one batch file upload may take: up to 200 MB goes up in one request. */
const minimumUploadTimeoutMilliseconds = 10 * 60 * 1000;

/**
 * What `complete` reads of a chat completion, as it may arrive: a proxy or a broken server need not
 * send what the SDK's types promise, so every part may be missing.
 */
interface ReceivedCompletion {
  readonly choices?: { readonly message?: { readonly content?: string | null } | null; readonly finish_reason?: string | null }[];
  readonly usage?: { readonly prompt_tokens?: number; readonly completion_tokens?: number } | null;
  readonly model?: string;
}

/** The teacher's response in a chat completion as it arrived; `model` stands in when the answer names none. */
function completionResponse(completion: ReceivedCompletion | null | undefined, model: string): TeacherResponse {
  if (!completion || !Array.isArray(completion.choices)) {
    // A proxy's or server's broken answer: asking again may well get a proper one.
    throw new TeacherRetryableError(`OpenAI answered without a "choices" list: ${JSON.stringify(completion).slice(0, 200)}`, null, null);
  }
  const choice = completion.choices[0];
  return {
    // No choice or no content (a refusal, a tool call) is an empty text, which the engine retries and never caches.
    text: choice?.message?.content ?? '',
    usage: { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 },
    model: completion.model || model,
    finishReason: choice?.finish_reason ?? null,
  };
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

/** The chat-completions body of one request: what `complete` sends, and what each batch line carries. */
function chatCompletionBody(options: OpenAiTeacherOptions, request: TeacherRequest): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const maxTokens = options.max_tokens ?? defaults.max_tokens;
  const messages: TeacherMessage[] = options.system_prompt ? [{ role: 'system', content: options.system_prompt }] : [];
  messages.push(...request.messages);
  return {
    model: options.model,
    messages: messages.map((message) => ({ role: message.role, content: message.content })),
    ...(isReasoningModel(options.model)
      ? { max_completion_tokens: maxTokens }
      : // `max_tokens` is deprecated for OpenAI's reasoning models only; see isReasoningModel.
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- what other models and compatible servers take
        { max_tokens: maxTokens, temperature: options.temperature ?? defaults.temperature }),
  };
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
    const translateError = (error: unknown) => translateProviderError(error, { ...errorContext, now: dependencies.clock.now() });
    return {
      ...openAiAccounting(options.model, options.system_prompt),
      requestOptions: {
        temperature,
        max_tokens: maxTokens,
        system_prompt: options.system_prompt ?? null,
        base_url: options.base_url ?? null,
      },
      cacheable: true,
      timeoutMilliseconds,
      async complete(request, signal) {
        let completion;
        try {
          completion = await client.chat.completions.create(chatCompletionBody(options, request), { signal });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          throw translateError(error);
        }
        return completionResponse(completion, options.model);
      },
      // Offered for base_url servers too: see openAiBatchApi for which serve it and what the others answer.
      batch: openAiBatchApi(client, {
        requestBody: (request) => chatCompletionBody(options, request),
        responseOf: (completion) => completionResponse(completion as ReceivedCompletion | null, options.model),
        translateError,
        secrets: [apiKey],
        baseUrl: options.base_url ?? officialBaseUrl,
        plugin,
        uploadTimeoutMilliseconds: Math.max(timeoutMilliseconds, minimumUploadTimeoutMilliseconds),
      }),
    };
  },
};
