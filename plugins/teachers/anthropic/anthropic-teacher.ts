import type { TeacherDescriptor } from '../../../core/plugins/kinds/teacher.js';
import { apiKeyFix, requiredApiKeyVariables, resolveApiKey, type ApiKeyLookup } from '../../../core/teacher/api-key.js';
import { translateProviderError, type ProviderErrorContext } from '../../../core/teacher/provider-error.js';
import { anthropicAccounting } from './anthropic-accounting.js';
import { anthropicBatchApi } from './anthropic-batch.js';
import { messageParameters, messageResponse, type AnthropicMessageSettings } from './anthropic-message.js';

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

/** Anthropic's own API: where a key from the environment may go. */
const officialBaseUrl = 'https://api.anthropic.com';

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

/**
 * The `anthropic` teacher: one Messages API call per example, through the official `@anthropic-ai/sdk`;
 * or, with `teacher.mode: batch`, Message Batches at half price ({@link anthropicBatchApi}).
 */
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
  batchNotice:
    "Anthropic's Message Batches are not eligible for zero data retention (ZDR): batch requests and results are kept under the feature's standard retention policy (results can be downloaded for 29 days), even where your organisation has a ZDR agreement. See https://platform.claude.com/docs/en/build-with-claude/batch-processing.",
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
    const messageSettings: AnthropicMessageSettings = {
      model: options.model,
      maxTokens,
      ...(temperature !== undefined ? { temperature } : {}),
      ...(options.system_prompt !== undefined ? { systemPrompt: options.system_prompt } : {}),
    };
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
      async complete(request, signal) {
        let answer;
        try {
          answer = await client.messages.create(messageParameters(messageSettings, request), { signal });
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          throw translateProviderError(error, { ...errorContext, now: dependencies.clock.now() });
        }
        return messageResponse(answer, options.model);
      },
      batch: anthropicBatchApi(client, {
        message: messageSettings,
        errorContext,
        clock: dependencies.clock,
        baseUrl: options.base_url ?? officialBaseUrl,
        timeoutMilliseconds,
      }),
    };
  },
};
