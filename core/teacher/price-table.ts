import type { Price } from '../config/pipeline-config.js';
import type { ListedPrice, TeacherAccounting, TokenUsage } from '../plugins/kinds/teacher.js';

/**
 * A price found for a teacher's model, with the key it came from (reported so users see which row
 * applied): `pipeline` from the pipeline's `prices:` block, `default` from the teacher's list price.
 */
export interface PriceMatch extends Price {
  readonly key: string;
  readonly source: 'pipeline' | 'default';
  /** True for the price of the provider's batch API (`teacher.mode: batch`), see {@link findBatchPrice}. */
  readonly batch?: boolean;
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
 * A model's price in a provider's own table of list prices (keyed by model id, US dollars per
 * million tokens), for a teacher plugin's `listedPrice`: an exact id, else its family's row (see
 * above); null when the table has neither. The key reported is `provider/row`.
 */
export function listedPriceIn(table: Readonly<Record<string, Price>>, provider: string, model: string): ListedPrice | null {
  const row = longestPrefixMatch(table, model);
  return row ? { key: `${provider}/${row}`, prompt: table[row]!.prompt, completion: table[row]!.completion } : null;
}

/**
 * The price of a teacher's model: the pipeline's `prices` block first (keyed `provider/model`),
 * then the teacher's own list price; null when neither knows the model (a local server, a teacher
 * answering from recordings), which then costs nothing.
 */
export function findPrice(teacher: TeacherAccounting, overrides: Readonly<Record<string, Price>> = {}): PriceMatch | null {
  const fromPipeline = longestPrefixMatch(overrides, `${teacher.provider}/${teacher.model}`);
  if (fromPipeline) return { ...overrides[fromPipeline]!, key: fromPipeline, source: 'pipeline' };
  const listed = teacher.listedPrice?.() ?? null;
  return listed ? { prompt: listed.prompt, completion: listed.completion, key: listed.key, source: 'default' } : null;
}

/** Dollars for a usage at a price (0 without a price). */
export function costOf(usage: TokenUsage, price: Price | null): number {
  if (!price) return 0;
  return (usage.promptTokens * price.prompt + usage.completionTokens * price.completion) / 1_000_000;
}

/**
 * The price of a teacher's model through its provider's batch API (`teacher.mode: batch`): the
 * pipeline's `batch_prompt`/`batch_completion` where its `prices:` row gives them, else the real-time
 * price ({@link findPrice}) times the teacher's `batchPriceShare` (0.5 for OpenAI and Anthropic).
 * Null when no real-time price is known, or when the teacher names no batch share and the pipeline no
 * batch price (it offers no batch mode to price).
 */
export function findBatchPrice(teacher: TeacherAccounting, overrides: Readonly<Record<string, Price>> = {}): PriceMatch | null {
  const price = findPrice(teacher, overrides);
  if (!price) return null;
  const share = teacher.batchPriceShare;
  const given: Partial<Price> = price.source === 'pipeline' ? overrides[price.key]! : {};
  if (share === undefined && (given.batch_prompt === undefined || given.batch_completion === undefined)) return null;
  return {
    key: price.key,
    source: price.source,
    batch: true,
    prompt: given.batch_prompt ?? price.prompt * (share ?? 1),
    completion: given.batch_completion ?? price.completion * (share ?? 1),
  };
}
