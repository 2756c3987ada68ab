import type { TeacherMessage } from '../plugins/kinds/teacher.js';

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
}

type Encoding = 'o200k_base' | 'cl100k_base';

/** The tiktoken encoding of an OpenAI model: `cl100k_base` for gpt-3.5 and gpt-4, `o200k_base` for everything newer. */
export function openAiEncodingFor(model: string): Encoding {
  const name = model.toLowerCase().replace(/^openai\//, '');
  if (/^(gpt-3\.5|gpt-4(?![o.])|text-embedding)/.test(name)) return 'cl100k_base';
  return 'o200k_base';
}

const encoders = new Map<Encoding, Promise<{ encode(text: string): number[] }>>();

function loadEncoder(encoding: Encoding): Promise<{ encode(text: string): number[] }> {
  let loading = encoders.get(encoding);
  if (!loading) {
    // The rank files are several megabytes: import only the one needed, only when first needed.
    loading = (async () => {
      const { Tiktoken } = await import('js-tiktoken/lite');
      const ranks =
        encoding === 'o200k_base'
          ? (await import('js-tiktoken/ranks/o200k_base')).default
          : (await import('js-tiktoken/ranks/cl100k_base')).default;
      return new Tiktoken(ranks);
    })();
    encoders.set(encoding, loading);
  }
  return loading;
}

/**
 * OpenAI chat framing, from OpenAI's cookbook ("How to count tokens with tiktoken"): every message
 * costs 3 tokens beyond its content, and every reply is primed with 3 more.
 */
const openAiTokensPerMessage = 3;
const openAiReplyPriming = 3;

/**
 * Characters per token for the Anthropic approximation. Claude 3 and later have no public offline
 * tokenizer, and the count-tokens endpoint needs a key and the network, which `distill estimate`
 * must not need. Anthropic's own rule of thumb is about 3.5 characters of English per token; prompts
 * of English prose land within about 10–20% of the real count, which is what an estimate needs.
 */
export const anthropicCharactersPerToken = 3.5;

/** The token counter of a provider: `js-tiktoken` for OpenAI models, a documented approximation otherwise. */
export async function createTokenCounter(provider: string, model: string): Promise<TokenCounter> {
  if (provider === 'openai') {
    const encoding = openAiEncodingFor(model);
    const encoder = await loadEncoder(encoding);
    const countText = (text: string) => encoder.encode(text).length;
    return {
      method: `tiktoken ${encoding}`,
      exact: true,
      countText,
      countMessages: (messages) =>
        messages.reduce(
          (total, message) => total + openAiTokensPerMessage + countText(message.role) + countText(message.content),
          openAiReplyPriming,
        ),
    };
  }
  const countText = (text: string) => Math.ceil(text.length / anthropicCharactersPerToken);
  return {
    method: `approximation: ${anthropicCharactersPerToken} characters per token`,
    exact: false,
    countText,
    // A few tokens of framing per message, as the Messages API adds role markers.
    countMessages: (messages) => messages.reduce((total, message) => total + 3 + countText(message.content), 0),
  };
}
