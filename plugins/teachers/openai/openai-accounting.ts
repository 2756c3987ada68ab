import type { Price } from '../../../core/config/pipeline-config.js';
import type { TeacherAccounting } from '../../../core/plugins/kinds/teacher.js';
import { listedPriceIn } from '../../../core/teacher/price-table.js';
import { openAiTokenCounter } from './openai-token-counter.js';

/**
 * OpenAI's list prices: US dollars per million tokens, keyed by model id. Taken from
 * platform.openai.com/docs/pricing as published in mid-2025 (standard tier, no batch or cache
 * discounts). Prices change: a pipeline overrides any of them, or adds a model, in its `prices:`
 * block, e.g. `prices: { openai/gpt-4o-mini: { prompt: 0.15, completion: 0.6 } }`.
 */
export const openAiPrices: Readonly<Record<string, Price>> = {
  'gpt-3.5-turbo': { prompt: 0.5, completion: 1.5 },
  'gpt-4': { prompt: 30, completion: 60 },
  'gpt-4-turbo': { prompt: 10, completion: 30 },
  'gpt-4.1': { prompt: 2, completion: 8 },
  'gpt-4.1-mini': { prompt: 0.4, completion: 1.6 },
  'gpt-4.1-nano': { prompt: 0.1, completion: 0.4 },
  'gpt-4o': { prompt: 2.5, completion: 10 },
  'gpt-4o-mini': { prompt: 0.15, completion: 0.6 },
  'gpt-5': { prompt: 1.25, completion: 10 },
  'gpt-5-mini': { prompt: 0.25, completion: 2 },
  'gpt-5-nano': { prompt: 0.05, completion: 0.4 },
  'o3-mini': { prompt: 1.1, completion: 4.4 },
  'o4-mini': { prompt: 1.1, completion: 4.4 },
};

/**
 * What OpenAI's Batch API charges of the real-time price: half, for input and output tokens alike
 * (platform.openai.com/docs/guides/batch: "50% cost discount compared to synchronous APIs"). Applied
 * to OpenAI-compatible servers alike: their prices are the pipeline's own (`prices:`), which may also
 * override this share (see `TeacherAccounting.batchPriceShare`).
 */
export const openAiBatchPriceShare = 0.5;

/** Provider name of the `openai` teacher, in accounting and in `prices:` keys. */
export const openAiProvider = 'openai';

/**
 * The accounting of an OpenAI model: tiktoken counts and OpenAI's list price. An OpenAI-compatible
 * server (`base_url`) is counted and priced the same; its own prices go in the pipeline's `prices:`.
 */
export function openAiAccounting(model: string, systemPrompt?: string): TeacherAccounting {
  return {
    provider: openAiProvider,
    model,
    ...(systemPrompt !== undefined ? { systemPrompt } : {}),
    tokenCounter: () => openAiTokenCounter(model),
    listedPrice: () => listedPriceIn(openAiPrices, openAiProvider, model),
    batchPriceShare: openAiBatchPriceShare,
    // `n` answers in one chat completion share its prompt (in batch mode each answer is a line of its own).
    samplesShareOnePrompt: true,
  };
}
