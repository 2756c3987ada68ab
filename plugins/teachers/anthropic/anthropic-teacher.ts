import {
  TeacherRetryableError,
  type TeacherDescriptor,
  type TeacherRequest,
  type TeacherResponse,
} from '../../../core/plugins/kinds/teacher.js';
import { greedySamplingRefusal } from '../../../core/teacher/ask-samples.js';
import { apiKeyFix, requiredApiKeyVariables, resolveApiKey, type ApiKeyLookup } from '../../../core/teacher/api-key.js';
import { translateProviderError, type ProviderErrorContext } from '../../../core/teacher/provider-error.js';
import { anthropicAccounting } from './anthropic-accounting.js';

/** Options of the {@link anthropicTeacher}. */
export interface AnthropicTeacherOptions {
  readonly model: string;
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly system_prompt?: string;
  readonly timeout_seconds?: number;
  readonly base_url?: string;
  readonly api_key?: string;
}

const defaults = { max_tokens: 256, timeout_seconds: 60 } as const;

/**
 * What `complete` reads of a Messages API answer, as it may arrive: a proxy or a broken server need
 * not send what the SDK's types promise, so every part may be missing.
 */
interface ReceivedMessage {
  readonly content?: { readonly type: string; readonly text?: string }[];
  readonly usage?: { readonly input_tokens?: number; readonly output_tokens?: number } | null;
  readonly model?: string;
  readonly stop_reason?: string | null;
}

/** The teacher's response in a Messages API answer as it arrived; `model` stands in when the answer names none. */
function messageResponse(answer: ReceivedMessage | null | undefined, model: string): TeacherResponse {
  if (!answer || !Array.isArray(answer.content)) {
    // A proxy's or server's broken answer: asking again may well get a proper one.
    throw new TeacherRetryableError(`Anthropic answered without a "content" list: ${JSON.stringify(answer).slice(0, 200)}`, null, null);
  }
  const text = answer.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('');
  return {
    text,
    usage: { promptTokens: answer.usage?.input_tokens ?? 0, completionTokens: answer.usage?.output_tokens ?? 0 },
    model: answer.model || model,
    finishReason: answer.stop_reason ?? null,
  };
}

/** Anthropic's own API: where a key from the environment may go. */
const officialBaseUrl = 'https://api.anthropic.com';

/** The Messages API takes system text as a parameter, not as a message. */
function messagesApiInput(systemPrompt: string | undefined, request: TeacherRequest) {
  const system = [systemPrompt, ...request.messages.filter((message) => message.role === 'system').map((message) => message.content)]
    .filter((text): text is string => Boolean(text))
    .join('\n\n');
  const messages = request.messages
    .filter((message) => message.role !== 'system')
    .map((message) => ({ role: message.role as 'user' | 'assistant', content: message.content }));
  return { system, messages };
}

/** Where the teacher's key comes from: its `api_key` option, else $ANTHROPIC_API_KEY for Anthropic's own API only. */
function keyLookupOf(options: AnthropicTeacherOptions): Omit<ApiKeyLookup, 'environment'> {
  return {
    option: options.api_key,
    variable: 'ANTHROPIC_API_KEY',
    plugin: 'teacher/anthropic',
    baseUrl: options.base_url,
    providerHost: 'api.anthropic.com',
  };
}

/** The `anthropic` teacher: one Messages API call per example, through the official `@anthropic-ai/sdk`. */
export const anthropicTeacher: TeacherDescriptor<AnthropicTeacherOptions> = {
  id: 'anthropic',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'Anthropic Claude through the Messages API.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['model'],
    properties: {
      model: { type: 'string', minLength: 1, description: 'Model id, e.g. claude-3-5-haiku-latest.' },
      temperature: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: 'Sent only when set: the current SDK no longer types it and newer models may refuse it.',
      },
      max_tokens: {
        type: 'integer',
        minimum: 1,
        default: defaults.max_tokens,
        description: 'Longest completion, in tokens (required by the API).',
      },
      system_prompt: { type: 'string', description: 'Sent as the `system` parameter.' },
      timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: defaults.timeout_seconds, description: 'Per-request timeout.' },
      base_url: { type: 'string', format: 'uri', description: 'Another endpoint speaking the Messages API (a proxy, a gateway).' },
      api_key: {
        type: 'string',
        secret: true,
        description:
          "Defaults to $ANTHROPIC_API_KEY, for Anthropic's own API only: a base_url gets a key only when named here. Redacted everywhere.",
      },
    },
  },
  exampleOptions: { model: 'claude-3-5-haiku-latest', max_tokens: 256 },
  comparisonOptions: { model: 'claude-3-5-haiku' },
  accounting: (options) => anthropicAccounting(options.model, options.system_prompt),
  requirements: (options) => ({ variables: requiredApiKeyVariables(keyLookupOf(options), 'Anthropic') }),

  async create(options, dependencies) {
    const plugin = 'teacher/anthropic';
    const keyLookup = { ...keyLookupOf(options), environment: dependencies.environment };
    const apiKey = resolveApiKey(keyLookup);
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const temperature = options.temperature;
    const timeoutMilliseconds = (options.timeout_seconds ?? defaults.timeout_seconds) * 1000;
    const maxTokens = options.max_tokens ?? defaults.max_tokens;
    const errorContext: Omit<ProviderErrorContext, 'now'> = {
      providerName: 'Anthropic',
      plugin,
      model: options.model,
      apiKeyVariable: 'ANTHROPIC_API_KEY',
      apiKeyFix: apiKeyFix(keyLookup),
      errorClasses: { timeout: Anthropic.APIConnectionTimeoutError, connection: Anthropic.APIConnectionError },
      secrets: [apiKey],
    };
    const client = new Anthropic({
      apiKey,
      // Explicit, so that the SDK reads neither ANTHROPIC_AUTH_TOKEN (a second credential it would send
      // to any base_url) nor ANTHROPIC_BASE_URL (a place to send the key to).
      authToken: null,
      baseURL: options.base_url ?? officialBaseUrl,
      // The request engine retries, with the pipeline's limits and backoff: the SDK must not as well.
      maxRetries: 0,
      timeout: timeoutMilliseconds,
    });
    return {
      ...anthropicAccounting(options.model, options.system_prompt),
      requestOptions: {
        temperature: temperature ?? null,
        max_tokens: maxTokens,
        system_prompt: options.system_prompt ?? null,
        base_url: options.base_url ?? null,
      },
      cacheable: true,
      timeoutMilliseconds,
      // Unset, the API samples at its default temperature (1); only an explicit 0 gives one answer.
      samplingRefusal: temperature === 0 ? greedySamplingRefusal : null,
      async complete(request, signal) {
        const { system, messages } = messagesApiInput(options.system_prompt, request);
        let answer;
        try {
          const parameters = { model: options.model, max_tokens: maxTokens, messages, ...(system ? { system } : {}) };
          // `temperature` is still accepted by the API for the models that take it, though no longer typed.
          const withTemperature = temperature === undefined ? parameters : ({ ...parameters, temperature } as typeof parameters);
          answer = await client.messages.create(withTemperature, { signal });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          throw translateProviderError(error, { ...errorContext, now: dependencies.clock.now() });
        }
        return messageResponse(answer, options.model);
      },
    };
  },
};
