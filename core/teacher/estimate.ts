import type { LoadedPipeline } from '../config/load-pipeline.js';
import { createStepInstance } from '../config/create-step-instance.js';
import { createRootContainer, createRunContainer, pluginDependencies } from '../container/root-container.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import { promptForDataset } from '../plugins/kinds/prompt.js';
import type { TeacherMessage } from '../plugins/kinds/teacher.js';
import { costOf, findPrice } from './price-table.js';
import { splitsForRoles } from './teach-pipeline.js';
import { createTokenCounter } from './token-counter.js';

/** One provider's line of `distill estimate`. */
export interface EstimateRow {
  readonly provider: string;
  readonly model: string;
  /** Whether this is the pipeline's own teacher (other rows are for comparison). */
  readonly teacher: boolean;
  /** How prompt tokens were counted (`tiktoken o200k_base`, or the approximation). */
  readonly counter: string;
  readonly exact: boolean;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Null when no price is known for the model. */
  readonly cost_usd: number | null;
  readonly price_key: string | null;
}

/** What `distill estimate` prints. */
export interface Estimate {
  readonly pipeline: string;
  readonly split: string;
  readonly examples: number;
  /** Expected completion tokens per example, and where that number came from. */
  readonly completion_tokens_per_example: number;
  readonly completion_tokens_source: string;
  readonly rows: readonly EstimateRow[];
}

/** Options of {@link estimatePipeline}. */
export interface EstimateOptions {
  /** Expected completion length per example (`--completion-tokens`). */
  readonly completionTokens?: number;
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** Completion tokens per example for a dataset that has no measured figure (`Dataset.expectedCompletionTokens`). */
const fallbackCompletionTokens = 60;

/** Providers compared in every estimate, with the model priced for each, besides the pipeline's own teacher. */
const referenceModels: readonly { provider: string; model: string }[] = [
  { provider: 'openai', model: 'gpt-4o-mini' },
  { provider: 'anthropic', model: 'claude-3-5-haiku' },
];

function defaultCompletionTokens(dataset: Dataset): { tokens: number; source: string } {
  return dataset.expectedCompletionTokens ?? { tokens: fallbackCompletionTokens, source: 'default' };
}

/**
 * `distill estimate`: renders the prompt of every example of the train split (within the pipeline's
 * limit), counts its tokens with each provider's counter, adds the expected completion length and
 * prices both. Nothing is sent anywhere and no teacher is created, so no API key is needed.
 */
export async function estimatePipeline(loaded: LoadedPipeline, options: EstimateOptions = {}): Promise<Estimate> {
  const { config } = loaded;
  const environment = options.environment ?? process.env;
  const root = createRootContainer({ registry: loaded.registry, environment });
  const run = createRunContainer(root, { baseDirectory: loaded.baseDirectory, signal: new AbortController().signal });
  try {
    const dependencies = pluginDependencies(run);
    const dataset = await createStepInstance(loaded, 'dataset', config.dataset, dependencies);
    const prompt = await promptForDataset(await createStepInstance(loaded, 'prompt', config.prompt, dependencies), dataset);
    const [train] = splitsForRoles(loaded, ['train']);
    const systemPrompt = typeof config.teacher.options.system_prompt === 'string' ? config.teacher.options.system_prompt : null;

    const teacherModel = typeof config.teacher.options.model === 'string' ? config.teacher.options.model : null;
    const candidates = [
      ...(teacherModel && (config.teacher.use === 'openai' || config.teacher.use === 'anthropic')
        ? [{ provider: config.teacher.use, model: teacherModel, teacher: true }]
        : []),
      ...referenceModels.map((reference) => ({ ...reference, teacher: false })),
    ].filter((candidate, index, all) => all.findIndex((other) => other.provider === candidate.provider) === index);
    const counters = await Promise.all(candidates.map((candidate) => createTokenCounter(candidate.provider, candidate.model)));

    const promptTokens = candidates.map(() => 0);
    let examples = 0;
    if (train) {
      for await (const example of dataset.read(train.split)) {
        if (train.limit !== undefined && examples >= train.limit) break;
        examples++;
        const messages: TeacherMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
        messages.push(...prompt.render(example));
        counters.forEach((counter, index) => (promptTokens[index]! += counter.countMessages(messages)));
      }
    }
    const fallback = defaultCompletionTokens(dataset);
    const perExample = options.completionTokens ?? fallback.tokens;
    const completionTokens = perExample * examples;
    return {
      pipeline: config.name,
      split: train?.split ?? '',
      examples,
      completion_tokens_per_example: perExample,
      completion_tokens_source: options.completionTokens !== undefined ? '--completion-tokens' : fallback.source,
      rows: candidates.map((candidate, index) => {
        const price = findPrice(candidate.provider, candidate.model, config.prices);
        const usage = { promptTokens: promptTokens[index]!, completionTokens };
        return {
          provider: candidate.provider,
          model: candidate.model,
          teacher: candidate.teacher,
          counter: counters[index]!.method,
          exact: counters[index]!.exact,
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.completionTokens,
          cost_usd: price ? costOf(usage, price) : null,
          price_key: price?.key ?? null,
        };
      }),
    };
  } finally {
    await run.dispose();
  }
}
