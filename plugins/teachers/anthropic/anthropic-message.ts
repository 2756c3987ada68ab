import { TeacherRetryableError, type TeacherRequest, type TeacherResponse } from '../../../core/plugins/kinds/teacher.js';

/**
 * What the `anthropic` teacher puts in every Messages API request besides the messages. One value
 * serves the real-time call and the batch request alike, so both ask exactly the same thing and a
 * batch answer may stand in for a real-time one.
 */
export interface AnthropicMessageSettings {
  readonly model: string;
  readonly maxTokens: number;
  /** Sent only when set. */
  readonly temperature?: number;
  /** The teacher's `system_prompt`, put before the request's own system messages. */
  readonly systemPrompt?: string;
}

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

/** The Messages API parameters of one request: model, max_tokens, messages, and system and temperature when set. */
export function messageParameters(settings: AnthropicMessageSettings, request: TeacherRequest) {
  const { system, messages } = messagesApiInput(settings.systemPrompt, request);
  const parameters = { model: settings.model, max_tokens: settings.maxTokens, messages, ...(system ? { system } : {}) };
  // `temperature` is still accepted by the API for the models that take it, though no longer typed.
  return settings.temperature === undefined ? parameters : ({ ...parameters, temperature: settings.temperature } as typeof parameters);
}

/**
 * What is read of a Messages API answer, as it may arrive: a proxy or a broken server need not send
 * what the SDK's types promise, so every part may be missing.
 */
export interface ReceivedMessage {
  readonly content?: { readonly type: string; readonly text?: string }[];
  readonly usage?: { readonly input_tokens?: number; readonly output_tokens?: number } | null;
  readonly model?: string;
  readonly stop_reason?: string | null;
}

/**
 * The teacher's response in a Messages API answer (real-time, or one line of a batch's results) as
 * it arrived; `model` stands in when the answer names none. Throws {@link TeacherRetryableError} for
 * an answer without a content list.
 */
export function messageResponse(answer: ReceivedMessage | null | undefined, model: string): TeacherResponse {
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
