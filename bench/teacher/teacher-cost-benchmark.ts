import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import { promptForDataset, type Prompt } from '../../core/plugins/kinds/prompt.js';
import { costOf, findPrice } from '../../core/teacher/price-table.js';
import type { TokenCounter } from '../../core/teacher/token-counter.js';
import type { DsbsDatasetName } from '../../plugins/datasets/dsbs/dsbs-layout.js';
import { openAiAccounting } from '../../plugins/teachers/openai/openai-accounting.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { dsbsDirectory } from '../support/bench-paths.js';
import type { BenchMode } from '../support/result-file.js';

/** The split each dataset's teacher labels: its training data (e-SNLI and ANLI1 train on `valid`). */
const teachSplits: Readonly<Record<DsbsDatasetName, string>> = { anli1: 'valid', cqa: 'train', esnli: 'valid', svamp: 'train' };

/** The paper's zero-shot template per dataset (ANLI's serves e-SNLI too) and the few-shot chain-of-thought one. */
const templates: Readonly<Record<DsbsDatasetName, { zeroShot: string; fewShot: string }>> = {
  anli1: { zeroShot: 'nli-zero-shot', fewShot: 'anli1-few-shot' },
  cqa: { zeroShot: 'cqa-zero-shot', fewShot: 'cqa-few-shot' },
  esnli: { zeroShot: 'nli-zero-shot', fewShot: 'esnli-few-shot' },
  svamp: { zeroShot: 'svamp-zero-shot', fewShot: 'svamp-few-shot' },
};

/**
 * Where PaLM's recorded completion stops being the answer and runs on into a made-up next exemplar
 * (`../shared/data/README.md`); e-SNLI's label line ends where `Premise` starts.
 */
const completionCutMarkers: Readonly<Record<DsbsDatasetName, string>> = { anli1: 'Premise:', cqa: 'Q:', esnli: 'Premise', svamp: 'Q:' };

/** The models priced: GPT-3.5 was the zero-shot paper's teacher; gpt-4o-mini is a current cheap one. */
const pricedModels = ['gpt-3.5-turbo', 'gpt-4o-mini'] as const;

/** The recorded completion up to the dataset's cut point: what the teacher really answered. */
export function cutCompletion(name: DsbsDatasetName, completion: string): string {
  const index = completion.indexOf(completionCutMarkers[name]);
  return (index < 0 ? completion : completion.slice(0, index)).trim();
}

interface PromptCount {
  readonly template: string;
  readonly shots: number;
  readonly prompt_tokens_total: number;
  readonly prompt_tokens_per_example: number;
}

interface ModelCost {
  readonly model: string;
  readonly counter: string;
  readonly price_key: string;
  readonly price_usd_per_million: { readonly prompt: number; readonly completion: number };
  readonly zero_shot: PromptCount & { readonly usd_total: number; readonly usd_per_1000_examples: number };
  readonly few_shot: PromptCount & { readonly usd_total: number; readonly usd_per_1000_examples: number };
  readonly completion_tokens_per_example: number;
  /** Few-shot prompt tokens over zero-shot prompt tokens. */
  readonly prompt_token_ratio: number;
  /** Few-shot dollars over zero-shot dollars, completions included. */
  readonly cost_ratio: number;
  /** Whether the prompt-token ratio (the tokens the zero-shot prompt saves) reaches the target. */
  readonly prompt_ratio_meets_target: boolean;
  /** Whether the dollar ratio reaches it too (completions, the same length for both prompts, weigh it down). */
  readonly cost_ratio_meets_target: boolean;
}

/** One dataset's row of the result. */
export interface TeacherCostRow {
  readonly dataset: DsbsDatasetName;
  readonly split: string;
  readonly examples: number;
  readonly examples_with_recorded_completion: number;
  readonly models: readonly ModelCost[];
}

/** Settings written into the result file. */
export interface TeacherCostSettings {
  readonly examples_per_dataset: number | 'all';
  readonly models: readonly string[];
  readonly completion_length_source: string;
  readonly target_ratio: number;
}

async function countPrompt(
  dataset: Dataset,
  split: string,
  prompt: Prompt,
  counter: TokenCounter,
  limit: number | null,
): Promise<{ total: number; examples: number }> {
  let total = 0;
  let examples = 0;
  for await (const example of dataset.read(split)) {
    if (limit !== null && examples >= limit) break;
    total += counter.countMessages(prompt.render(example));
    examples++;
  }
  return { total, examples };
}

/**
 * Teacher cost per example and in dollars, zero-shot against few-shot, for the four datasets: every
 * prompt rendered by the `template` plugin over the real data and counted by the project's token
 * counter; completion tokens from the real recorded PaLM answers cut where they stop answering;
 * dollars from the project's price table.
 */
export async function runTeacherCostBenchmark(mode: BenchMode): Promise<{ settings: TeacherCostSettings; results: TeacherCostRow[] }> {
  const limit = mode === 'smoke' ? 20 : mode === 'quick' ? 500 : null;
  const targetRatio = 8;
  const dependencies = benchDependencies();
  const counters = new Map<string, TokenCounter>();
  for (const model of pricedModels) counters.set(model, await openAiAccounting(model).tokenCounter!());
  const rows: TeacherCostRow[] = [];
  for (const name of ['anli1', 'cqa', 'esnli', 'svamp'] as const) {
    const split = teachSplits[name];
    const dataset = (await builtinDescriptor('dataset', 'dsbs').create({ name, root: dsbsDirectory }, dependencies)) as Dataset;
    const zeroShot = (await builtinDescriptor('prompt', 'template').create({ name: templates[name].zeroShot }, dependencies)) as Prompt;
    const fewShot = await promptForDataset(
      (await builtinDescriptor('prompt', 'template').create({ name: templates[name].fewShot }, dependencies)) as Prompt,
      dataset,
    );
    const recordings = await readDsbsRecordings(dsbsDirectory, name, split);

    const models: ModelCost[] = [];
    let examples = 0;
    let withCompletion = 0;
    for (const model of pricedModels) {
      const counter = counters.get(model)!;
      const zero = await countPrompt(dataset, split, zeroShot, counter, limit);
      const few = await countPrompt(dataset, split, fewShot, counter, limit);
      examples = zero.examples;
      let completionTokens = 0;
      withCompletion = 0;
      let seen = 0;
      for await (const example of dataset.read(split)) {
        if (limit !== null && seen >= limit) break;
        seen++;
        const completion = recordings.get(example.id);
        if (completion === undefined) continue;
        withCompletion++;
        completionTokens += counter.countText(cutCompletion(name, completion));
      }
      const completionPerExample = completionTokens / Math.max(1, withCompletion);
      const price = findPrice(openAiAccounting(model));
      if (!price) throw new Error(`the price table has no price for openai/${model}`);
      const completionTotal = completionPerExample * examples;
      const zeroUsd = costOf({ promptTokens: zero.total, completionTokens: completionTotal }, price);
      const fewUsd = costOf({ promptTokens: few.total, completionTokens: completionTotal }, price);
      const costRatio = fewUsd / zeroUsd;
      models.push({
        model,
        counter: counter.method,
        price_key: price.key,
        price_usd_per_million: { prompt: price.prompt, completion: price.completion },
        zero_shot: {
          template: templates[name].zeroShot,
          shots: zeroShot.shots,
          prompt_tokens_total: zero.total,
          prompt_tokens_per_example: zero.total / examples,
          usd_total: zeroUsd,
          usd_per_1000_examples: (zeroUsd / examples) * 1000,
        },
        few_shot: {
          template: templates[name].fewShot,
          shots: fewShot.shots,
          prompt_tokens_total: few.total,
          prompt_tokens_per_example: few.total / examples,
          usd_total: fewUsd,
          usd_per_1000_examples: (fewUsd / examples) * 1000,
        },
        completion_tokens_per_example: completionPerExample,
        prompt_token_ratio: few.total / zero.total,
        cost_ratio: costRatio,
        prompt_ratio_meets_target: few.total / zero.total >= targetRatio,
        cost_ratio_meets_target: costRatio >= targetRatio,
      });
    }
    rows.push({ dataset: name, split, examples, examples_with_recorded_completion: withCompletion, models });
  }
  return {
    settings: {
      examples_per_dataset: limit ?? 'all',
      models: pricedModels.map((model) => `openai/${model}`),
      completion_length_source:
        'the recorded PaLM-540B completion of each example cut at the dataset\'s cut point (cqa, svamp "Q:"; anli1 "Premise:"; esnli "Premise"), counted with the same tokenizer; the same mean length is charged to zero-shot and few-shot, since the data holds no zero-shot answers',
      target_ratio: targetRatio,
    },
    results: rows,
  };
}
