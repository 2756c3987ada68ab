import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createPluginInstance } from '../plugins/create-plugin-instance.js';
import { UserError } from '../errors/user-error.js';
import { readJsonLines } from '../parsing/json-lines.js';
import { hasNamedDatasets, type Dataset, type NamedDataset } from '../plugins/kinds/dataset.js';
import { standalonePluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';

/** One example to score: the student's input (without task prefix) and the gold label. */
export interface EvaluationExample {
  readonly input: string;
  readonly label: string;
}

/** Where evaluation examples come from. */
export interface EvaluationSource {
  /**
   * A dataset that a dataset plugin serves by name (its descriptor's `namedDatasets`) or a JSON
   * Lines file with `input` and `label` fields.
   */
  readonly dataset: string;
  /** Split of a named dataset (default `test`); ignored for a file. */
  readonly split?: string;
  /** Data folder of a named dataset, handed to its plugin; default: the plugin's own (e.g. an environment variable). */
  readonly root?: string;
  /** Keep only the first N examples. */
  readonly limit?: number;
  /** Folder relative paths resolve against (default: the working folder). */
  readonly baseDirectory?: string;
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Metric for a file, which names none; a named dataset always scores with its own. */
  readonly metric?: string;
}

/** The examples and the name of the metric that scores them. */
export interface EvaluationSet {
  readonly examples: EvaluationExample[];
  readonly metric: string;
  /** What was read, for reports. */
  readonly description: string;
}

/**
 * The gold examples of a dataset split as the student sees them: the dataset's own student input and
 * gold label, in the dataset's order, so scores match what the trainer scored on the same split.
 */
export async function datasetEvaluationExamples(
  dataset: Dataset,
  split: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<EvaluationExample[]> {
  const examples: EvaluationExample[] = [];
  if (limit <= 0) return examples;
  for await (const example of dataset.read(split)) {
    examples.push({ input: dataset.studentInput(example), label: example.goldLabel ?? '' });
    if (examples.length >= limit) break;
  }
  return examples;
}

/** The examples of a JSON Lines file whose lines are `{"input": …, "label": …}`. */
export async function fileEvaluationExamples(file: string, limit = Number.POSITIVE_INFINITY): Promise<EvaluationExample[]> {
  const examples: EvaluationExample[] = [];
  for await (const { value, line } of readJsonLines(file, 'evaluation file')) {
    if (examples.length >= limit) break;
    const record = value as Record<string, unknown> | null;
    if (typeof record?.input !== 'string' || typeof record.label !== 'string') {
      throw new UserError({
        message: `line ${line} of ${file} lacks a string "input" or "label"`,
        file,
        line,
        fix: 'each line must be an object like {"input": "...", "label": "..."}',
      });
    }
    examples.push({ input: record.input, label: record.label });
  }
  return examples;
}

/** The dataset plugins' named datasets: name → the plugin id and the dataset. */
function namedDatasets(registry: PluginRegistry): Map<string, { readonly use: string; readonly dataset: NamedDataset }> {
  const named = new Map<string, { use: string; dataset: NamedDataset }>();
  for (const descriptor of registry.list('dataset')) {
    if (!hasNamedDatasets(descriptor)) continue;
    for (const [name, dataset] of Object.entries(descriptor.namedDatasets))
      if (!named.has(name)) named.set(name, { use: descriptor.id, dataset });
  }
  return named;
}

/**
 * Reads the examples `distill eval` scores (and `distill export` compares int8 with fp32 on). A name
 * creates the dataset plugin that serves it, from the registry, and reads its split through the
 * `Dataset` contract, so the exported student sees exactly the inputs the trainer scored; a `.jsonl`
 * file is for any other data.
 */
export async function readEvaluationExamples(source: EvaluationSource, registry: PluginRegistry): Promise<EvaluationSet> {
  const baseDirectory = source.baseDirectory ?? process.cwd();
  const named = namedDatasets(registry);
  const entry = named.get(source.dataset);
  if (entry) {
    const split = source.split ?? 'test';
    const dependencies = standalonePluginDependencies({ baseDirectory, environment: source.environment ?? process.env });
    const step = { use: entry.use, options: entry.dataset.options(source.root) };
    const dataset = await createPluginInstance(registry, 'dataset', step, dependencies, baseDirectory);
    const examples = await datasetEvaluationExamples(dataset, split, source.limit);
    return { examples, metric: entry.dataset.metric, description: `${source.dataset}/${split}` };
  }
  const file = path.resolve(baseDirectory, source.dataset);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new UserError({
      message: `unknown dataset "${source.dataset}": neither a named dataset nor a file`,
      fix: `use one of ${[...named.keys()].sort().join(', ')}, or a JSON Lines file whose lines hold "input" and "label"`,
    });
  }
  // A file names no metric of its own: the caller's, else that of the registry's default evaluator
  // (an evaluator plugin's id is the name of its metric).
  const metric = source.metric ?? registry.defaults.evaluators?.[0]?.use;
  if (metric === undefined) {
    throw new UserError({
      message: `no metric to score ${source.dataset} with: a file does not name its own, and the plugins have no default evaluator`,
      fix: 'name the metric of one of the evaluator plugins (`distill plugins` lists them)',
    });
  }
  return { examples: await fileEvaluationExamples(file, source.limit), metric, description: path.basename(file) };
}
