import type { TokenCounter } from '../../../core/plugins/kinds/teacher.js';

type Encoding = 'o200k_base' | 'cl100k_base';

/** What the counter needs of a tiktoken encoder (`disallowedSpecial` as js-tiktoken takes it). */
interface Encoder {
  encode(text: string, allowedSpecial: string[], disallowedSpecial: string[]): number[];
}

/** The tiktoken encoding of an OpenAI model: `cl100k_base` for gpt-3.5 and gpt-4, `o200k_base` for everything newer. */
export function openAiEncodingFor(model: string): Encoding {
  const name = model.toLowerCase().replace(/^openai\//, '');
  if (/^(gpt-3\.5|gpt-4(?![o.])|text-embedding)/.test(name)) return 'cl100k_base';
  return 'o200k_base';
}

const encoders = new Map<Encoding, Promise<Encoder>>();

function loadEncoder(encoding: Encoding): Promise<Encoder> {
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

/** The exact token counter of an OpenAI model: `js-tiktoken` with the model's encoding and OpenAI's chat framing. */
export async function openAiTokenCounter(model: string): Promise<TokenCounter> {
  const encoding = openAiEncodingFor(model);
  const encoder = await loadEncoder(encoding);
  // A special token's text in the data (`<|endoftext|>`) is ordinary text to the API, so it is
  // counted as such: js-tiktoken's default refuses it with an error, which would stop a run.
  const countText = (text: string) => encoder.encode(text, [], []).length;
  return {
    method: `tiktoken ${encoding}`,
    exact: true,
    countText,
    countMessages: (messages) =>
      messages.reduce(
        (total, message) => total + openAiTokensPerMessage + countText(message.role) + countText(message.content),
        openAiReplyPriming,
      ),
    // Every token of a byte-level BPE holds at least one byte of UTF-8, so the bytes bound the count.
    boundMessages: (messages) =>
      messages.reduce(
        (total, message) =>
          total + openAiTokensPerMessage + Buffer.byteLength(message.role, 'utf8') + Buffer.byteLength(message.content, 'utf8'),
        openAiReplyPriming,
      ),
  };
}
