import type { TokenCounter } from '../plugins/kinds/teacher.js';

export type { TokenCounter } from '../plugins/kinds/teacher.js';

/**
 * A token counter that approximates from the length of the text, for a provider with no offline
 * tokenizer: `charactersPerToken` is the provider's own rule of thumb, `tokensPerMessage` the
 * framing its chat format adds to every message (role markers). Shared by teacher plugins; which
 * ratio fits which provider is the plugin's knowledge.
 */
export function characterRatioTokenCounter(charactersPerToken: number, tokensPerMessage: number): TokenCounter {
  const countText = (text: string) => Math.ceil(text.length / charactersPerToken);
  return {
    method: `approximation: ${charactersPerToken} characters per token`,
    exact: false,
    countText,
    countMessages: (messages) => messages.reduce((total, message) => total + tokensPerMessage + countText(message.content), 0),
  };
}
