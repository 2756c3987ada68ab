import type { Price } from '../../../core/config/pipeline-config.js';
import type { TeacherAccounting } from '../../../core/plugins/kinds/teacher.js';
import { listedPriceIn } from '../../../core/teacher/price-table.js';
import { anthropicTokenCounter } from './anthropic-token-counter.js';

/**
 * Anthropic's list prices: US dollars per million tokens, keyed by model id. Taken from
 * anthropic.com/pricing as published in mid-2025 (standard tier, no batch or cache discounts).
 * Prices change: a pipeline overrides any of them, or adds a model, in its `prices:` block, e.g.
 * `prices: { anthropic/claude-3-5-haiku: { prompt: 0.8, completion: 4 } }`.
 */
export const anthropicPrices: Readonly<Record<string, Price>> = {
  'claude-3-haiku': { prompt: 0.25, completion: 1.25 },
  'claude-3-5-haiku': { prompt: 0.8, completion: 4 },
  'claude-3-5-sonnet': { prompt: 3, completion: 15 },
  'claude-3-7-sonnet': { prompt: 3, completion: 15 },
  'claude-haiku-4-5': { prompt: 1, completion: 5 },
  'claude-sonnet-4': { prompt: 3, completion: 15 },
  'claude-sonnet-4-5': { prompt: 3, completion: 15 },
  'claude-opus-4': { prompt: 15, completion: 75 },
  'claude-opus-4-1': { prompt: 15, completion: 75 },
};

/** Provider name of the `anthropic` teacher, in accounting and in `prices:` keys. */
export const anthropicProvider = 'anthropic';

/** The accounting of a Claude model: the documented approximation of its tokens and Anthropic's list price. */
export function anthropicAccounting(model: string, systemPrompt?: string): TeacherAccounting {
  return {
    provider: anthropicProvider,
    model,
    ...(systemPrompt !== undefined ? { systemPrompt } : {}),
    tokenCounter: anthropicTokenCounter,
    listedPrice: () => listedPriceIn(anthropicPrices, anthropicProvider, model),
    // Message Batches are billed at 50% of the standard price, input and output alike
    // (https://platform.claude.com/docs/en/build-with-claude/batch-processing, "Pricing").
    batchPriceShare: 0.5,
  };
}
