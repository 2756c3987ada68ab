import type { TokenCounter } from '../../../core/plugins/kinds/teacher.js';
import { characterRatioTokenCounter } from '../../../core/teacher/token-counter.js';

/**
 * Characters per token for the Anthropic approximation. Claude 3 and later have no public offline
 * tokenizer, and the count-tokens endpoint needs a key and the network, which `distill estimate`
 * must not need. Anthropic's own rule of thumb is about 3.5 characters of English per token; prompts
 * of English prose land within about 10–20% of the real count, which is what an estimate needs.
 */
export const anthropicCharactersPerToken = 3.5;

/** A few tokens of framing per message, as the Messages API adds role markers. */
const anthropicTokensPerMessage = 3;

/** The token counter of a Claude model: the documented approximation above (the same for every model). */
export function anthropicTokenCounter(): Promise<TokenCounter> {
  return Promise.resolve(characterRatioTokenCounter(anthropicCharactersPerToken, anthropicTokensPerMessage));
}
