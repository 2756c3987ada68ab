import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Dataset, DatasetExample } from '../../core/plugins/kinds/dataset.js';
import type { Evaluator } from '../../core/plugins/kinds/evaluator.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import type { DistillEvent } from '../../core/services/event-stream.js';
import { readTestSplit } from '../../core/runner/stages/test-split.js';
import { runPipeline } from '../../plugins/index.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { dsbsDirectory } from '../support/bench-paths.js';
import { BenchUsageError, type BenchContext, type BenchOutcome } from '../support/bench-context.js';
import {
  baseRecipeFile,
  decoderStudentStart,
  quickstartFile,
  readRecipe,
  smollm2RecipeFile,
  studentBlock,
  trainerOptions,
} from '../support/decoder-student-recipe.js';
import type { BenchMode } from '../support/result-file.js';
import { workerSourceDigest } from '../support/worker-source-digest.js';

/** The datasets of this bench. */
export type QualityDataset = 'esnli' | 'cqa';

/** What one dataset's pipelines are built with. */
export interface DatasetSettings {
  readonly splits: { readonly train: string; readonly test: string };
  /** The teacher prompt template (the recorded teacher answers without it, but the pipeline names one). */
  readonly prompt: string;
  /** The `dsbs` dataset's `student_input` template; absent: the dataset's default. */
  readonly student_input?: string;
  /** Training examples read (`dataset.limit.train`); null: the whole split. */
  readonly train_limit: number | null;
  /** Test examples scored (`dataset.limit.test`); null: the whole split. */
  readonly test_limit: number | null;
  /** Share of the training examples every method trains on (the `data-fraction` sampler). */
  readonly data_fraction: number;
  /** Over the SmolLM2 recipe's student block. */
  readonly student: Readonly<Record<string, unknown>>;
  /** The torch trainer's options, over the SmolLM2 recipe's. */
  readonly trainer: Readonly<Record<string, unknown>>;
}

/**
 * The settings of every dataset, in one table. Quick (and full) mode: e-SNLI with the offline
 * quickstart's own student and trainer settings (read from `pipelines/quickstart.yaml` when the bench
 * runs, so the bench follows the quickstart), tested on 2,000 test examples; CQA for about 80 steps of
 * batch 16 with prompts up to 192 tokens (a question and five choices), tested on its whole test
 * split (1,221). Smoke mode: a handful of steps on 200 training and 20 test examples.
 */
export function datasetSettings(mode: BenchMode): Record<QualityDataset, DatasetSettings> {
  const quickstart = readRecipe(quickstartFile);
  const quickstartDataset = (quickstart.dataset as { options?: { student_input?: string } } | undefined)?.options;
  const esnli = { splits: { train: 'valid', test: 'test' }, prompt: 'nli-zero-shot', student_input: quickstartDataset?.student_input };
  const cqa = { splits: { train: 'train', test: 'test' }, prompt: 'cqa-zero-shot' };
  if (mode === 'smoke') {
    const smoke = {
      train_limit: 200,
      test_limit: 20,
      data_fraction: 1,
      student: { max_input_length: 96, max_target_length: 24 },
      trainer: {
        batch_size: 4,
        learning_rate: 1e-3,
        warmup_steps: 1,
        max_steps: 4,
        eval_every: 2,
        checkpoint_every: 2,
        eval_limit: 8,
        generation_max_tokens: 6,
      },
    };
    return { esnli: { ...esnli, ...smoke }, cqa: { ...cqa, ...smoke } };
  }
  return {
    esnli: {
      ...esnli,
      train_limit: null,
      test_limit: 2000,
      data_fraction: 1,
      student: studentBlock(quickstart),
      trainer: trainerOptions(quickstart),
    },
    cqa: {
      ...cqa,
      train_limit: null,
      test_limit: null,
      data_fraction: 1,
      student: { max_input_length: 192 },
      trainer: {
        batch_size: 16,
        learning_rate: 1e-4,
        warmup_steps: 10,
        max_steps: 80,
        eval_every: 40,
        checkpoint_every: 40,
        eval_limit: 200,
        // The trainer's own test in PyTorch on 200; the evaluate stage scores the exported student on all 1,221.
        test_limit: 200,
        generation_max_tokens: 8,
      },
    },
  };
}

/** One of the three methods compared: same examples, seed and steps. */
export interface Method {
  readonly name: string;
  readonly alpha: number;
  /** The `rationale-rate` sampler's rate: 0 trains the label task only. */
  readonly rationale_rate: number;
  readonly targets: 'two-tasks' | 'label-then-rationale';
}

/** Standard finetuning and the two step-by-step layouts, in the order the rows are run and shown. */
export const methods: readonly Method[] = [
  { name: 'standard finetuning', alpha: 1, rationale_rate: 0, targets: 'two-tasks' },
  { name: 'step-by-step, two-tasks', alpha: 0.5, rationale_rate: 1, targets: 'two-tasks' },
  { name: 'step-by-step, label-then-rationale', alpha: 0.5, rationale_rate: 1, targets: 'label-then-rationale' },
];

/** A method's short name on the command line (`--methods standard,two-tasks,label-then-rationale`). */
export function methodKey(method: Method): string {
  return method.alpha === 1 ? 'standard' : method.targets;
}

/** The seed of every pipeline (the base recipe's). */
const seed = 42;

/** One trained, exported and evaluated student. */
interface QualityRow {
  readonly dataset: string;
  readonly method: string;
  readonly alpha: number;
  readonly targets: string;
  readonly rationale_rate: number;
  readonly data_fraction: number;
  readonly seed: number;
  /** The evaluate stage's accuracy: the exported student scored in Node (onnxruntime, greedy labels). */
  readonly node_test_accuracy: number;
  /** The trainer's (PyTorch) test accuracy of the same checkpoint. */
  readonly trainer_test_accuracy: number;
  readonly validation_accuracy: number;
  readonly best_step: number | null;
  readonly steps: number;
  readonly status: string | null;
  readonly train_examples: number;
  readonly with_rationale: number;
  readonly validation_examples: number;
  readonly test_examples: number;
  /** Seconds of each stage, from its record (`startedAt` to `finishedAt`). */
  readonly stage_seconds: Record<string, number>;
  /** The Node evaluate stage's batch-1 latency on 50 test inputs. */
  readonly node_latency_ms: { readonly p50: number; readonly p95: number };
  /** Digest of the pipeline, recipes and worker code: a later run keeps the row only when it is the same. */
  readonly settings_digest: string;
}

/** What the teacher and chance score on a dataset's test examples. */
interface DatasetBaselines {
  readonly test_examples: number;
  /** The recorded PaLM answers of the same test examples, parsed by the `palm` parser, scored against gold. */
  readonly teacher_label_accuracy: number;
  /** Test examples without a recorded answer or whose answer has no label (counted wrong). */
  readonly teacher_unlabelled: number;
  /** The most frequent gold label of the test examples and its share. */
  readonly majority_class: { readonly label: string; readonly share: number };
  /** Picking one of CQA's five answer choices at random; null for e-SNLI. */
  readonly random_choice: number | null;
}

/** The result of the bench. */
interface QualityResults {
  readonly baselines: Record<string, DatasetBaselines>;
  readonly runs: QualityRow[];
  /** Datasets not run, with why (their data is absent). */
  readonly skipped: Record<string, string>;
}

/** A pipeline of the bench as plain data, ready to be written as YAML. */
export function pipelineDocument(
  mode: BenchMode,
  name: QualityDataset,
  settings: DatasetSettings,
  method: Method,
): { readonly name: string; readonly [key: string]: unknown } {
  const start = decoderStudentStart(mode);
  const limit = {
    ...(settings.train_limit === null ? {} : { train: settings.train_limit }),
    ...(settings.test_limit === null ? {} : { test: settings.test_limit }),
  };
  return {
    name: `pretrained-quality-${name}-${method.name.replace(/[^a-z]+/g, '-')}`,
    extends: start.extends,
    seed,
    dataset: {
      use: 'dsbs',
      options: { name, root: dsbsDirectory, ...(settings.student_input === undefined ? {} : { student_input: settings.student_input }) },
      splits: settings.splits,
      limit,
    },
    teacher: { use: 'recorded', options: { source: 'dsbs', dataset: name, root: dsbsDirectory } },
    prompt: { use: 'template', options: { name: settings.prompt } },
    parser: { use: 'palm', options: { dataset: name } },
    samplers: [
      { use: 'label-source', options: { source: 'gold' } },
      { use: 'data-fraction', options: { fraction: settings.data_fraction } },
      { use: 'rationale-rate', options: { rate: method.rationale_rate } },
    ],
    loss: { use: 'constant', options: { alpha: method.alpha } },
    student: { ...start.student, ...settings.student, targets: method.targets },
    trainer: { use: 'torch', options: settings.trainer },
    evaluators: [{ use: 'exact-match' }],
    export: { use: 'onnx', options: { quantize: false } },
  };
}

/** Digest of what a row was trained from: the pipeline, the recipes it extends and the worker's code. */
function settingsDigest(document: Record<string, unknown>, workerSource: string): string {
  const hash = createHash('sha256').update(JSON.stringify(document)).update('\0').update(workerSource);
  for (const file of [smollm2RecipeFile, baseRecipeFile]) hash.update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The teacher's labels on the test examples a run scored (`test.jsonl` of its dataset stage): the
 * recorded PaLM completions of the test split, parsed by the `palm` parser, scored against gold by
 * the `exact-match` evaluator; and the majority class of those examples.
 */
async function datasetBaselines(name: QualityDataset, settings: DatasetSettings, testFile: string): Promise<DatasetBaselines> {
  const dependencies = benchDependencies();
  const options = { name, root: dsbsDirectory, ...(settings.student_input === undefined ? {} : { student_input: settings.student_input }) };
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create(options, dependencies)) as Dataset;
  const parser = (await builtinDescriptor('parser', 'palm').create({ dataset: name }, dependencies)) as Parser;
  const evaluator = (await builtinDescriptor('evaluator', 'exact-match').create({}, dependencies)) as Evaluator;
  const recordings = await readDsbsRecordings(dsbsDirectory, name, settings.splits.test);
  const tested = readTestSplit(testFile);
  const wanted = new Set(tested.map((example) => example.id));
  const examples = new Map<string, DatasetExample>();
  for await (const example of dataset.read(settings.splits.test)) if (wanted.has(example.id)) examples.set(example.id, example);
  let correct = 0;
  let unlabelled = 0;
  const counts = new Map<string, number>();
  for (const { id, label: gold } of tested) {
    counts.set(gold, (counts.get(gold) ?? 0) + 1);
    const completion = recordings.get(id);
    const example = examples.get(id);
    const parsed = completion === undefined || example === undefined ? null : parser.parse(completion, example);
    if (parsed?.label == null) {
      unlabelled++;
      continue;
    }
    correct += evaluator.score(parsed.label, gold);
  }
  const [label, count] = [...counts].sort((left, right) => right[1] - left[1])[0] ?? ['', 0];
  return {
    test_examples: tested.length,
    teacher_label_accuracy: correct / Math.max(1, tested.length),
    teacher_unlabelled: unlabelled,
    majority_class: { label, share: count / Math.max(1, tested.length) },
    random_choice: name === 'cqa' ? 0.2 : null,
  };
}

/** Seconds between two ISO times, to the tenth. */
function secondsBetween(started: string, finished: string): number {
  return Math.round((Date.parse(finished) - Date.parse(started)) / 100) / 10;
}

/** Prints the run's stage changes and evaluations as they come, so a long run can be followed. */
function progressListener(label: string): (event: DistillEvent) => void {
  return (event) => {
    if (event.type === 'stage.start' || event.type === 'stage.done' || event.type === 'stage.reused')
      console.log(`    ${label}: ${event.type} ${String(event.stage)}`);
    else if (event.type === 'train.evaluation')
      console.log(`    ${label}: ${String(event.split)} accuracy ${String(event.accuracy)} at step ${String(event.step)}`);
  };
}

/**
 * The SmolLM2-135M student (`pipelines/shared/smollm2-student.yaml`) on e-SNLI and CQA, three methods
 * on the same examples with the same seed and steps: standard finetuning (α = 1, the label task
 * only), step-by-step with `two-tasks` targets and with `label-then-rationale` targets (α = 0.5, the
 * PaLM rationales). Each row is a real pipeline run (`runPipeline`: dataset, recorded teacher,
 * samplers, torch trainer, onnx export, Node evaluate) from a pipeline written to a temporary folder;
 * labels are gold, as in the quickstart. Beside the rows, the teacher's own label accuracy on the same
 * test examples and the majority class. A row is written to the result file as soon as it is done, and
 * a later run in the same mode keeps every row with the same settings digest, running only the rest.
 */
export async function runPretrainedQualityBenchmark(context: BenchContext): Promise<BenchOutcome> {
  const { mode } = context;
  const table = datasetSettings(mode);
  const chosen = context.qualityGrid.datasets ?? Object.keys(table);
  for (const name of chosen) {
    if (!(name in table))
      throw new BenchUsageError(`--datasets: the pretrained quality bench knows ${Object.keys(table).join(', ')}, not "${name}"`);
  }
  const keys = methods.map(methodKey);
  const unknownMethod = context.qualityGrid.methods?.find((key) => !keys.includes(key));
  if (unknownMethod !== undefined) throw new BenchUsageError(`--methods: one of ${keys.join(', ')}, not "${unknownMethod}"`);
  const chosenMethods = methods.filter((method) => context.qualityGrid.methods?.includes(methodKey(method)) ?? true);
  const workerSource = workerSourceDigest();
  const previous = (context.previous?.results as QualityResults | undefined) ?? null;
  const rows = new Map<string, QualityRow>((previous?.runs ?? []).map((row) => [`${row.dataset}|${row.method}`, row]));
  const baselines: Record<string, DatasetBaselines> = { ...previous?.baselines };
  const skipped: Record<string, string> = {};
  const settings = {
    student:
      mode === 'smoke'
        ? 'a tiny random-init Llama (smoke: numbers mean nothing)'
        : `SmolLM2-135M-Instruct, ${String(studentBlock(readRecipe(smollm2RecipeFile)).pretrained)}`,
    recipe: path.relative(path.dirname(quickstartFile), smollm2RecipeFile),
    datasets: table,
    methods,
    seed,
    labels: 'gold (label-source sampler), as the quickstart',
    worker_source: workerSource,
  };
  const outcome = () => ({
    settings,
    results: { baselines, runs: [...rows.values()], skipped } satisfies QualityResults,
  });

  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-pretrained-quality-'));
  try {
    for (const name of chosen as QualityDataset[]) {
      if (!existsSync(path.join(dsbsDirectory, name))) {
        skipped[name] = `no ${name} data at ${path.join(dsbsDirectory, name)} (set DISTILL_DSBS_DIR to the dsbs folder)`;
        console.log(`  skipping ${name}: ${skipped[name]}`);
        continue;
      }
      for (const method of chosenMethods) {
        const document = {
          ...pipelineDocument(mode, name, table[name], method),
          // One teacher cache for every pipeline of the bench (the recorded teacher costs nothing).
          cache: { enabled: true, path: path.join(work, 'teacher-cache.sqlite') },
          output: { directory: path.join(work, 'runs') },
        };
        const digest = settingsDigest({ ...document, cache: undefined, output: undefined }, workerSource);
        const key = `${name}|${method.name}`;
        if (rows.get(key)?.settings_digest === digest) {
          console.log(`  ${name}, ${method.name}: kept from the previous result file (same settings and worker code)`);
          continue;
        }
        rows.delete(key);
        const file = path.join(work, `${document.name}.yaml`);
        mkdirSync(work, { recursive: true });
        writeFileSync(file, stringify(document));
        console.log(`  ${name}, ${method.name}: running ${file}`);
        const run = await runPipeline(file, { listener: progressListener(`${name}, ${method.name}`) });
        const dataset = run.outcomes.of('dataset')!.record.output;
        const trainer = run.outcomes.of('trainer')!.record.output;
        const evaluate = run.outcomes.of('evaluate')!.record.output;
        baselines[name] ??= await datasetBaselines(name, table[name], dataset.testFile);
        const row: QualityRow = {
          dataset: name,
          method: method.name,
          alpha: method.alpha,
          targets: method.targets,
          rationale_rate: method.rationale_rate,
          data_fraction: table[name].data_fraction,
          seed,
          node_test_accuracy: evaluate.accuracy,
          trainer_test_accuracy: trainer.testAccuracy,
          validation_accuracy: trainer.validationAccuracy,
          best_step: trainer.bestStep ?? null,
          steps: trainer.steps,
          status: trainer.status ?? null,
          train_examples: trainer.data.examples,
          with_rationale: trainer.data.withRationale,
          validation_examples: trainer.data.validation,
          test_examples: evaluate.examples,
          stage_seconds: Object.fromEntries(
            run.outcomes.map((stage) => [stage.stage, secondsBetween(stage.record.startedAt, stage.record.finishedAt)]),
          ),
          node_latency_ms: evaluate.latencyMilliseconds,
          settings_digest: digest,
        };
        rows.set(key, row);
        context.save(outcome());
        console.log(
          `  ${name}, ${method.name}: Node test ${row.node_test_accuracy.toFixed(3)}, trainer test ${row.trainer_test_accuracy.toFixed(3)}, validation ${row.validation_accuracy.toFixed(3)} (teacher ${baselines[name].teacher_label_accuracy.toFixed(3)})`,
        );
        rmSync(run.runDirectory, { recursive: true, force: true });
      }
    }
    return outcome();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
