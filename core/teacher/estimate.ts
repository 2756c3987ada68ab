import type { LoadedPipeline } from '../config/load-pipeline.js';
import { createStepInstance } from '../config/create-step-instance.js';
import { withRun } from '../container/run-scope.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import { promptForDataset, type Prompt } from '../plugins/kinds/prompt.js';
import type { TeacherAccounting, TeacherDescriptor, TeacherMessage, TokenCounter } from '../plugins/kinds/teacher.js';
import { costOf, findBatchPrice, findPrice } from './price-table.js';
import { splitsForRoles } from './teach-pipeline.js';

/** One provider's line of `distill estimate`. */
export interface EstimateRow {
  readonly provider: string;
  readonly model: string;
  /** Whether this is the pipeline's own teacher (other rows are for comparison). */
  readonly teacher: boolean;
  /** How prompt tokens were counted (`tiktoken o200k_base`, or the approximation). */
  readonly counter: string;
  readonly exact: boolean;
  /** Prompt tokens in real time (in batch mode every answer of `samples` pays its prompt). */
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Null when no price is known for the model. */
  readonly cost_usd: number | null;
  readonly price_key: string | null;
  /**
   * The same work through the provider's batch API (`teacher.mode: batch`): the batch price of
   * `prices:` or the real-time price times the teacher's batch share. Null when the teacher offers no
   * batch mode or no price is known.
   */
  readonly batch_cost_usd: number | null;
}

/** What `distill estimate` prints. */
export interface Estimate {
  readonly pipeline: string;
  readonly split: string;
  readonly examples: number;
  /** Expected completion tokens per example, and where that number came from. */
  readonly completion_tokens_per_example: number;
  readonly completion_tokens_source: string;
  /**
   * Answers asked per example (`teacher.samples`): completions count this many times; prompts too,
   * except in real time for a teacher whose answers share one prompt (`samplesShareOnePrompt`).
   * Batch mode sends every answer as a request of its own.
   */
  readonly samples: number;
  readonly rows: readonly EstimateRow[];
}

/** Options of {@link estimatePipeline}. */
export interface EstimateOptions {
  /** Expected completion length per example (`--completion-tokens`). */
  readonly completionTokens?: number;
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** Completion tokens per example when neither the caller nor the dataset says. */
const fallbackCompletionTokens = 60;

/** A teacher to price, with its token counter; `teacher` marks the pipeline's own. */
interface Candidate {
  readonly accounting: TeacherAccounting;
  readonly counter: TokenCounter;
  readonly teacher: boolean;
}

/**
 * The teachers to price: the pipeline's own, when its plugin can count tokens, then a typical model
 * of every other provider whose plugin offers one for comparison (one row per provider). All come
 * from the teacher descriptors' accounting, so no teacher is created and no key is needed.
 */
async function estimateCandidates(loaded: LoadedPipeline): Promise<{ candidates: Candidate[]; systemPrompt: string | undefined }> {
  const own: TeacherDescriptor = loaded.registry.get('teacher', loaded.config.teacher.use);
  const ownAccounting = own.accounting?.(loaded.config.teacher.options);
  const accountings = [
    ...(ownAccounting ? [{ accounting: ownAccounting, teacher: true }] : []),
    ...loaded.registry
      .list('teacher')
      .flatMap((descriptor: TeacherDescriptor) =>
        descriptor.accounting && descriptor.comparisonOptions
          ? [{ accounting: descriptor.accounting(descriptor.comparisonOptions), teacher: false }]
          : [],
      ),
  ]
    .filter((candidate) => candidate.accounting.tokenCounter !== undefined)
    .filter((candidate, index, all) => all.findIndex((other) => other.accounting.provider === candidate.accounting.provider) === index);
  const candidates = await Promise.all(
    accountings.map(async (candidate) => ({ ...candidate, counter: await candidate.accounting.tokenCounter!() })),
  );
  return { candidates, systemPrompt: ownAccounting?.systemPrompt };
}

/** Prompt tokens of every example of the train split (within the pipeline's limit), per counter. */
async function countPrompts(
  loaded: LoadedPipeline,
  dataset: Dataset,
  prompt: Prompt,
  counters: readonly TokenCounter[],
  systemPrompt: string | undefined,
): Promise<{ split: string; examples: number; promptTokens: number[] }> {
  const [train] = splitsForRoles(loaded, ['train']);
  const promptTokens = counters.map(() => 0);
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
  return { split: train?.split ?? '', examples, promptTokens };
}

/**
 * `distill estimate`: renders the prompt of every example of the train split (within the pipeline's
 * limit), counts its tokens with each provider's counter, adds the expected completion length and
 * prices both. Nothing is sent anywhere and no teacher is created, so no API key is needed.
 */
export async function estimatePipeline(loaded: LoadedPipeline, options: EstimateOptions = {}): Promise<Estimate> {
  const { config } = loaded;
  const environment = options.environment ?? process.env;
  return withRun({ registry: loaded.registry, environment, baseDirectory: loaded.baseDirectory }, async ({ dependencies }) => {
    const dataset = await createStepInstance(loaded, 'dataset', config.dataset, dependencies);
    const prompt = await promptForDataset(await createStepInstance(loaded, 'prompt', config.prompt, dependencies), dataset);
    const { candidates, systemPrompt } = await estimateCandidates(loaded);
    const counted = await countPrompts(
      loaded,
      dataset,
      prompt,
      candidates.map((candidate) => candidate.counter),
      systemPrompt,
    );
    const measured = dataset.expectedCompletionTokens;
    const perExample = options.completionTokens ?? measured?.tokens ?? fallbackCompletionTokens;
    const samples = config.teacher.samples;
    const completionTokens = perExample * counted.examples * samples;
    return {
      pipeline: config.name,
      split: counted.split,
      examples: counted.examples,
      completion_tokens_per_example: perExample,
      completion_tokens_source: options.completionTokens !== undefined ? '--completion-tokens' : (measured?.source ?? 'default'),
      samples,
      rows: candidates.map(({ accounting, counter, teacher }, index) => {
        const price = findPrice(accounting, config.prices);
        const batchPrice = findBatchPrice(accounting, config.prices);
        const prompts = counted.promptTokens[index]!;
        const usage = { promptTokens: accounting.samplesShareOnePrompt ? prompts : prompts * samples, completionTokens };
        const batchUsage = { promptTokens: prompts * samples, completionTokens };
        return {
          provider: accounting.provider,
          model: accounting.model,
          teacher,
          counter: counter.method,
          exact: counter.exact,
          prompt_tokens: usage.promptTokens,
          completion_tokens: usage.completionTokens,
          cost_usd: price ? costOf(usage, price) : null,
          price_key: price?.key ?? null,
          batch_cost_usd: batchPrice ? costOf(batchUsage, batchPrice) : null,
        };
      }),
    };
  });
}
