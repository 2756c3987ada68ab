import type { Price } from '../config/pipeline-config.js';
import type { TokenUsage } from '../plugins/kinds/teacher.js';

/**
 * The one price table: US dollars per million tokens, keyed `provider/model`.
 *
 * Taken from the public pricing pages of OpenAI (platform.openai.com/docs/pricing) and Anthropic
 * (anthropic.com/pricing) as published in mid-2025 (standard tier, no batch or cache discounts).
 * Prices change: a pipeline overrides any of them, or adds a model, in its `prices:` block, e.g.
 * `prices: { openai/gpt-4o-mini: { prompt: 0.15, completion: 0.6 } }`.
 */
export const defaultPrices: Readonly<Record<string, Price>> = {
  'openai/gpt-3.5-turbo': { prompt: 0.5, completion: 1.5 },
  'openai/gpt-4': { prompt: 30, completion: 60 },
  'openai/gpt-4-turbo': { prompt: 10, completion: 30 },
  'openai/gpt-4.1': { prompt: 2, completion: 8 },
  'openai/gpt-4.1-mini': { prompt: 0.4, completion: 1.6 },
  'openai/gpt-4.1-nano': { prompt: 0.1, completion: 0.4 },
  'openai/gpt-4o': { prompt: 2.5, completion: 10 },
  'openai/gpt-4o-mini': { prompt: 0.15, completion: 0.6 },
  'openai/gpt-5': { prompt: 1.25, completion: 10 },
  'openai/gpt-5-mini': { prompt: 0.25, completion: 2 },
  'openai/gpt-5-nano': { prompt: 0.05, completion: 0.4 },
  'openai/o3-mini': { prompt: 1.1, completion: 4.4 },
  'openai/o4-mini': { prompt: 1.1, completion: 4.4 },
  'anthropic/claude-3-haiku': { prompt: 0.25, completion: 1.25 },
  'anthropic/claude-3-5-haiku': { prompt: 0.8, completion: 4 },
  'anthropic/claude-3-5-sonnet': { prompt: 3, completion: 15 },
  'anthropic/claude-3-7-sonnet': { prompt: 3, completion: 15 },
  'anthropic/claude-haiku-4-5': { prompt: 1, completion: 5 },
  'anthropic/claude-sonnet-4': { prompt: 3, completion: 15 },
  'anthropic/claude-sonnet-4-5': { prompt: 3, completion: 15 },
  'anthropic/claude-opus-4': { prompt: 15, completion: 75 },
  'anthropic/claude-opus-4-1': { prompt: 15, completion: 75 },
};

/** A price found for a model, with the table key it came from (reported so users see which row applied). */
export interface PriceMatch extends Price {
  readonly key: string;
  readonly source: 'pipeline' | 'default';
}

function longestPrefixMatch(table: Readonly<Record<string, Price>>, key: string): string | null {
  if (table[key]) return key;
  // Dated and aliased ids (`gpt-4o-mini-2024-07-18`, `claude-3-5-haiku-latest`) take the price of
  // their family: the longest key followed by `-`, so `gpt-4o-mini-…` never gets `gpt-4o`'s price.
  let best: string | null = null;
  for (const candidate of Object.keys(table)) {
    if (key.startsWith(candidate + '-') && (best === null || candidate.length > best.length)) best = candidate;
  }
  return best;
}

/**
 * The price of `provider/model`: the pipeline's `prices` block first, then the defaults; null when
 * neither knows the model (a local server, the `recorded` teacher), which then costs nothing.
 */
export function findPrice(provider: string, model: string, overrides: Readonly<Record<string, Price>> = {}): PriceMatch | null {
  const key = `${provider}/${model}`;
  const fromPipeline = longestPrefixMatch(overrides, key);
  if (fromPipeline) return { ...overrides[fromPipeline]!, key: fromPipeline, source: 'pipeline' };
  const fromDefaults = longestPrefixMatch(defaultPrices, key);
  if (fromDefaults) return { ...defaultPrices[fromDefaults]!, key: fromDefaults, source: 'default' };
  return null;
}

/** Dollars for a usage at a price (0 without a price). */
export function costOf(usage: TokenUsage, price: Price | null): number {
  if (!price) return 0;
  return (usage.promptTokens * price.prompt + usage.completionTokens * price.completion) / 1_000_000;
}
