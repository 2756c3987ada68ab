import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import type { SampleItem, Sampler } from '../../core/plugins/kinds/sampler.js';
import type { DsbsDatasetName } from '../../plugins/datasets/dsbs/dsbs-layout.js';
import { holdOutValidation } from '../../core/training/split-roles.js';
import { applySamplers, trainingExamplesFromItems } from '../../core/training/training-data.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { benchPath, dsbsDirectory, pythonInterpreter } from '../support/bench-paths.js';
import { workerSourceDigest } from '../support/worker-source-digest.js';
import { runProcess, threadEnvironment } from '../inference/child-process.js';
import { BenchUsageError, type BenchContext, type BenchOutcome } from '../support/bench-context.js';

/** Standard finetuning (gold labels, no rationale, α = 1) or step-by-step at a rationale rate (α = 0.5). */
type Method = { readonly name: 'standard' } | { readonly name: 'step-by-step'; readonly rate: number };

/** The split each dataset trains on and the one it is tested on (e-SNLI has no train split). */
const splits: Readonly<Record<'esnli' | 'cqa', { train: string; test: string }>> = {
  esnli: { train: 'valid', test: 'test' },
  cqa: { train: 'train', test: 'test' },
};

/**
 * Input tokens kept, per dataset, with the `predict: ` prefix and a 2,000-piece tokenizer: e-SNLI
 * pairs fit in 64; a CQA question with its five answer choices has a median of 65 and a 90th
 * percentile of 80 tokens, so 64 would cut off the last choices, often the answer.
 */
const maxInputLength: Readonly<Record<'esnli' | 'cqa', number>> = { esnli: 64, cqa: 128 };

/** One trained student. */
interface QualityRow {
  readonly dataset: string;
  /** The student size (a {@link StudentCandidate} name), chosen on validation accuracy. */
  readonly student: string;
  readonly fraction: number;
  readonly method: string;
  readonly rationale_rate: number | null;
  readonly seed: number;
  readonly max_input_length: number;
  readonly train_examples: number;
  readonly with_rationale: number;
  readonly validation_accuracy: number | null;
  readonly test_accuracy: number | null;
  readonly test_examples: number;
  readonly best_step: number | null;
  readonly seconds: number;
}

/** A student size the bench may train; which one it trains is chosen on validation accuracy. */
interface StudentCandidate {
  readonly name: string;
  readonly config: Readonly<Record<string, number>>;
}

/**
 * The sizes the bench chooses from, smallest first. The quick grid chooses between the first two;
 * the full grid also tries the deeper one.
 */
const studentCandidates: readonly StudentCandidate[] = [
  { name: 'd64-l2', config: { d_model: 64, d_ff: 256, d_kv: 16, num_heads: 4, num_layers: 2, num_decoder_layers: 2, dropout_rate: 0 } },
  { name: 'd128-l2', config: { d_model: 128, d_ff: 512, d_kv: 32, num_heads: 4, num_layers: 2, num_decoder_layers: 2, dropout_rate: 0 } },
  { name: 'd128-l4', config: { d_model: 128, d_ff: 512, d_kv: 32, num_heads: 4, num_layers: 4, num_decoder_layers: 4, dropout_rate: 0 } },
];

/** One training of the size selection: validation only, no test file given to the worker. */
interface SelectionRun {
  readonly student: string;
  readonly method: string;
  readonly validation_accuracy: number | null;
  readonly best_step: number | null;
  readonly seconds: number;
}

/** The size chosen for a dataset, with the validation scores it was chosen on. */
interface StudentSelection {
  readonly runs: SelectionRun[];
  /** Per candidate, the mean validation accuracy of its two methods. */
  readonly mean_validation_accuracy: Record<string, number>;
  readonly chosen: string;
}

/** What the quality bench writes as its results. */
interface QualityResults {
  /** When the first run of a grid carried over from run to run started (ISO date and time). */
  readonly grid_started_at?: string;
  readonly majority_class_test_accuracy: Record<string, number>;
  /** Per dataset, the student size chosen on validation before the grid ran. */
  readonly student_selection: Record<string, StudentSelection>;
  readonly runs: QualityRow[];
}

/**
 * A part of the mode's grid to run instead of all of it (`--datasets`, `--fractions`, `--rates`,
 * `--seeds` of `run-benchmarks`), so that a long grid can be measured piece by piece. `rates` are the
 * step-by-step rationale rates; standard finetuning always runs.
 */
export interface QualityGridChoice {
  readonly datasets?: readonly string[];
  readonly fractions?: readonly number[];
  readonly rates?: readonly number[];
  readonly seeds?: readonly number[];
  /** The pretrained quality bench's methods to run (`--methods standard,two-tasks,label-then-rationale`); default all. */
  readonly methods?: readonly string[];
  /** The offline-students bench's recipes to run (`--recipes quickstart`); the others keep their previous rows. */
  readonly recipes?: readonly string[];
}

/** Settings written into the result. */
export interface QualitySettings {
  readonly datasets: readonly string[];
  readonly fractions: readonly number[];
  readonly methods: readonly string[];
  readonly seeds: readonly number[];
  /** The sizes the bench chose from, by name. */
  readonly student_candidates: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** How the size was chosen. */
  readonly student_selection: string;
  readonly tokenizer_pieces: number;
  /** What the tokenizer of each cell is trained on (one for both methods). */
  readonly tokenizer_corpus: string;
  readonly max_input_length: Readonly<Record<string, number>>;
  readonly max_target_length: number;
  readonly precision: string;
  readonly steps: number;
  readonly batch_size: number;
  readonly learning_rate: number;
  readonly eval_every: number;
  readonly validation: string;
  readonly test_examples: number | 'all';
  readonly labels: string;
  readonly threads_per_training: number;
  /** Digest of the worker's Python sources the trainings ran. */
  readonly worker_source: string;
  readonly concurrent_trainings: number;
}

/** Teacher items of a dataset's training split: gold label, PaLM label (imputed when missing) and rationale. */
async function trainingItems(name: DsbsDatasetName, split: string): Promise<{ items: SampleItem[]; dataset: Dataset }> {
  const dependencies = benchDependencies();
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create({ name, root: dsbsDirectory }, dependencies)) as Dataset;
  const parser = (await builtinDescriptor('parser', 'palm').create({ dataset: name }, dependencies)) as Parser;
  const recordings = await readDsbsRecordings(dsbsDirectory, name, split);
  const items: SampleItem[] = [];
  for await (const example of dataset.read(split)) {
    const completion = recordings.get(example.id);
    const parsed = completion === undefined ? null : parser.parse(completion, example);
    const teacherLabel = parsed?.label ?? (name === 'esnli' ? 'neutral' : '');
    items.push({
      id: example.id,
      input: dataset.studentInput(example),
      goldLabel: example.goldLabel,
      teacherLabel,
      label: teacherLabel,
      rationale: parsed?.rationale ?? null,
    });
  }
  return { items, dataset };
}

async function createSampler(id: string, options: Record<string, unknown>): Promise<Sampler> {
  return (await builtinDescriptor('sampler', id).create(options, benchDependencies())) as Sampler;
}

function runWorker(requestFile: string, threads: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonInterpreter, [workerMainScript, '--request', requestFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' },
    });
    let done: Record<string, unknown> | null = null;
    let pending = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line) as Record<string, unknown>;
        if (event.type === 'done') done = event;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString('utf8')).slice(-3000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 && done ? resolve(done) : reject(new Error(`the worker exited with code ${code}:\n${errors}`)),
    );
  });
}

/** The settings two trainings must share for one to stand in for the other (with the row's own `max_input_length`). */
const trainingSettingKeys = [
  'student_candidates',
  'student_selection',
  'tokenizer_pieces',
  'tokenizer_corpus',
  'max_target_length',
  'precision',
  'steps',
  'batch_size',
  'learning_rate',
  'eval_every',
  'validation',
  'test_examples',
  'labels',
  'threads_per_training',
  'worker_source',
] as const;

function sameTraining(left: Record<string, unknown>, right: Record<string, unknown>): boolean {
  return trainingSettingKeys.every((key) => JSON.stringify(left[key]) === JSON.stringify(right[key]));
}

const rowKey = (row: Pick<QualityRow, 'dataset' | 'fraction' | 'method' | 'rationale_rate' | 'seed'>) =>
  `${row.dataset}|${row.fraction}|${row.method}|${row.rationale_rate}|${row.seed}`;
const union = <Value>(values: Iterable<Value>, compare?: (left: Value, right: Value) => number) => [...new Set(values)].sort(compare);

/** Runs `tasks` with at most `limit` at once; the first failure stops new ones from starting and is thrown. */
async function runPool(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  // The first failure, in an object: any thrown value counts, and TypeScript sees the lanes set it.
  const stopped: { failure?: { readonly error: unknown } } = {};
  const lane = async () => {
    while (!stopped.failure && next < tasks.length) {
      const task = tasks[next++]!;
      await task().catch((error: unknown) => {
        stopped.failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  if (stopped.failure) throw stopped.failure.error;
}

/** The training request of one student: `test` absent for the trainings of the size selection. */
function trainRequest(
  runDirectory: string,
  files: { train: string; validation: string; test?: string },
  student: StudentCandidate,
  settings: {
    tokenizer_pieces: number;
    max_target_length: number;
    batch_size: number;
    learning_rate: number;
    eval_every: number;
    threads_per_training: number;
  },
  maxInput: number,
  alpha: number,
  seed: number,
  steps: number,
) {
  return {
    type: 'train',
    protocol: 1,
    request: {
      output_directory: runDirectory,
      data: files,
      student: {
        size: 'custom',
        config: student.config,
        tokenizer: { type: 'unigram', vocab_size: settings.tokenizer_pieces },
        max_input_length: maxInput,
        max_target_length: settings.max_target_length,
      },
      alpha: { start: alpha, end: alpha },
      metric: 'exact-match',
      seed,
      resume: false,
      options: {
        batch_size: settings.batch_size,
        max_steps: steps,
        threads: settings.threads_per_training,
        learning_rate: settings.learning_rate,
        warmup_steps: Math.floor(steps / 20),
        eval_every: settings.eval_every,
        checkpoint_every: steps + 1,
        eval_limit: 500,
        generation_max_tokens: 8,
        log_every: 50,
      },
      options_schema: workerOptionsSchema,
    },
  };
}

/** The seed and data fraction the student size is chosen at. */
const selectionSeed = 1;
const selectionFraction = 1;

/**
 * Students trained from scratch by the worker on the real data, standard finetuning against
 * step-by-step distillation with the PaLM rationales, over data fractions, rationale rates and
 * seeds: the shape of the paper's tables. Training data goes through the real sampler plugins
 * (label source, data fraction, rationale rate). Every choice is made on the validation set (10% of
 * the training split, held out with a fixed seed; the dsbs data have no other validation split the
 * bench trains beside): first the student size, per dataset, from {@link studentCandidates}, by the
 * mean validation accuracy of standard finetuning and step-by-step (rate 1) on all the data at seed
 * 1, in trainings given no test file at all; then, in every training of the grid, the checkpoint
 * (and so the number of steps) with the best validation accuracy. Test is scored once, on that
 * checkpoint of the chosen size.
 *
 * Both methods of a cell (dataset, fraction, seed) share one tokenizer, trained on the cell's
 * inputs, labels and every rationale (`shared_tokenizer.py`, the worker's own tokenizer training),
 * so that they differ in their loss only: standard finetuning trains on the same examples with the
 * rationales left out of its loss (α = 1), not out of its vocabulary.
 *
 * Trainings run `jobs` at once with one thread each: these students are so small that one thread
 * trains faster than two (measured: 300 steps in 31 s on one thread, 40 s on two), and the same
 * seed gives the same accuracy in any process. The grid is resumable: after each training the
 * result file is written, and a later run keeps every training of its previous result file that
 * had the same settings and worker code, running only the rest.
 */
export async function runStudentQualityBenchmark(context: BenchContext): Promise<BenchOutcome> {
  const { mode, qualityGrid: choice } = context;
  const quick = mode !== 'full';
  const jobs = context.jobs ?? Math.max(1, os.cpus().length);
  const candidates = quick ? studentCandidates.slice(0, 2) : studentCandidates;
  const rates = choice.rates ?? (quick ? [1] : [0, 0.33, 1]);
  const methods: Method[] = [{ name: 'standard' }, ...rates.map((rate) => ({ name: 'step-by-step' as const, rate }))];
  for (const name of choice.datasets ?? []) {
    if (!(name in splits))
      throw new BenchUsageError(`--datasets: the quality bench knows ${Object.keys(splits).join(', ')}, not "${name}"`);
  }
  const steps = mode === 'smoke' ? 20 : 1000;
  const grid = {
    datasets: choice.datasets ?? (quick ? ['esnli'] : ['esnli', 'cqa']),
    fractions: choice.fractions ?? { smoke: [1], quick: [0.25, 1], full: [0.125, 0.25, 0.5, 1] }[mode],
    seeds: choice.seeds ?? (quick ? [1] : [1, 2, 3]),
  };
  const training = {
    student_candidates: Object.fromEntries(candidates.map((candidate) => [candidate.name, candidate.config])),
    student_selection: `per dataset, the candidate with the best mean validation accuracy of standard finetuning and step-by-step (rate 1) on ${selectionFraction * 100}% of the data at seed ${selectionSeed}, in trainings given no test file (a tie goes to the smaller); the grid then trains that size only`,
    tokenizer_pieces: 2000,
    tokenizer_corpus:
      "one tokenizer per dataset, fraction and seed, shared by every method: the worker's tokenizer training on that cell's inputs, labels and every rationale (bench/quality/shared_tokenizer.py)",
    max_input_length: maxInputLength,
    max_target_length: 32,
    precision: "the worker's default (bf16: auto: bf16 training steps where the CPU multiplies bf16 natively; evaluation in fp32)",
    steps,
    batch_size: 32,
    learning_rate: 3e-3,
    eval_every: Math.max(10, Math.floor(steps / 4)),
    validation:
      '10% of the training split held out (fixed seed), at most 500 examples scored per validation; it chooses the student size and each training’s checkpoint',
    test_examples: { smoke: 100, quick: 1000, full: 'all' as const }[mode],
    labels: 'gold (label-source sampler)',
    threads_per_training: 1,
    worker_source: workerSourceDigest(),
  };
  const previous =
    context.previous?.settings && sameTraining(context.previous.settings as Record<string, unknown>, training)
      ? (context.previous.results as QualityResults)
      : null;
  const selections: Record<string, StudentSelection> = { ...previous?.student_selection };
  // The input length is per dataset, so each row carries its own; a row of another size than the one chosen is not kept.
  const carried = (previous?.runs ?? []).filter(
    (row) => row.max_input_length === maxInputLength[row.dataset as 'esnli' | 'cqa'] && row.student === selections[row.dataset]?.chosen,
  );
  const rows = new Map<string, QualityRow>(carried.map((row) => [rowKey(row), row]));
  const majority: Record<string, number> = { ...previous?.majority_class_test_accuracy };
  if (context.previous && !previous)
    console.log('  the previous result file was trained with other settings or worker code: starting the grid afresh');
  else if (rows.size > 0)
    console.log(`  ${rows.size} trainings carried over from the previous result file (same settings and worker code)`);

  // When the first run of this grid started, carried over from run to run; absent for a grid run
  // afresh (the page then says nothing of kept trainings).
  const gridStartedAt = previous?.grid_started_at ?? (previous ? context.previous?.started_at : undefined);
  const outcome = (): { settings: QualitySettings; results: QualityResults } => {
    const runs = [...rows.values()].sort((left, right) => rowKey(left).localeCompare(rowKey(right)));
    return {
      settings: {
        ...training,
        datasets: union(runs.map((row) => row.dataset)),
        fractions: union(
          runs.map((row) => row.fraction),
          (left, right) => left - right,
        ),
        methods: union(runs.map((row) => (row.method === 'standard' ? 'standard' : `step-by-step r=${row.rationale_rate}`))),
        seeds: union(
          runs.map((row) => row.seed),
          (left, right) => left - right,
        ),
        concurrent_trainings: jobs,
      },
      results: {
        ...(gridStartedAt ? { grid_started_at: gridStartedAt } : {}),
        majority_class_test_accuracy: majority,
        student_selection: selections,
        runs,
      },
    };
  };

  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-quality-'));
  try {
    const prepared = new Map<
      'esnli' | 'cqa',
      { train: SampleItem[]; directory: string; validationFile: string; testFile: string; testExamples: number }
    >();
    for (const name of grid.datasets as ('esnli' | 'cqa')[]) {
      const { items, dataset } = await trainingItems(name, splits[name].train);
      const { train, validation } = holdOutValidation(items, 0.1, 42, (item) => item.id);
      const test: { id: string; input: string; label: string; rationale: string }[] = [];
      const counts = new Map<string, number>();
      for await (const example of dataset.read(splits[name].test)) {
        if (training.test_examples !== 'all' && test.length >= training.test_examples) break;
        test.push({ id: example.id, input: dataset.studentInput(example), label: example.goldLabel ?? '', rationale: '' });
        counts.set(example.goldLabel ?? '', (counts.get(example.goldLabel ?? '') ?? 0) + 1);
      }
      majority[name] = Math.max(...counts.values()) / test.length;
      const directory = path.join(work, name);
      const validationFile = path.join(directory, 'validation.jsonl');
      const testFile = path.join(directory, 'test.jsonl');
      mkdirSync(directory, { recursive: true });
      writeFileSync(
        validationFile,
        validation
          .map((item) => JSON.stringify({ id: item.id, input: item.input, label: item.goldLabel ?? '', rationale: '' }))
          .join('\n') + '\n',
      );
      writeFileSync(testFile, test.map((row) => JSON.stringify(row)).join('\n') + '\n');
      prepared.set(name, { train, directory, validationFile, testFile, testExamples: test.length });
    }

    // The tokenizer of a cell, trained once (by the first training that needs it) and copied into each training's folder.
    const tokenizers = new Map<string, Promise<string>>();
    const cellTokenizer = (name: 'esnli' | 'cqa', fraction: number, seed: number, base: SampleItem[]): Promise<string> => {
      const cell = `${name}-f${fraction}-s${seed}`;
      let tokenizing = tokenizers.get(cell);
      if (!tokenizing) {
        tokenizing = (async () => {
          const folder = path.join(prepared.get(name)!.directory, `tokenizer-${cell}`);
          mkdirSync(folder, { recursive: true });
          const examplesFile = path.join(folder, 'corpus.jsonl');
          const studentFile = path.join(folder, 'student.json');
          writeFileSync(
            examplesFile,
            trainingExamplesFromItems(base)
              .map((example) => JSON.stringify(example))
              .join('\n') + '\n',
          );
          writeFileSync(studentFile, JSON.stringify({ tokenizer: { type: 'unigram', vocab_size: training.tokenizer_pieces } }));
          const output = await runProcess(
            pythonInterpreter,
            [benchPath('quality', 'shared_tokenizer.py'), '--examples', examplesFile, '--student', studentFile, '--output', folder],
            threadEnvironment(1),
          );
          return (JSON.parse(output.trim().split('\n').at(-1)!) as { tokenizer: string }).tokenizer;
        })();
        tokenizers.set(cell, tokenizing);
      }
      return tokenizing;
    };

    /** The examples of a method in a cell, and the cell's examples before the rationale rate (its tokenizer corpus). */
    const methodExamples = async (name: 'esnli' | 'cqa', fraction: number, seed: number, method: Method) => {
      const base = applySamplers(
        prepared.get(name)!.train,
        [await createSampler('label-source', { source: 'gold' }), await createSampler('data-fraction', { fraction })],
        seed,
      );
      const sampled =
        method.name === 'standard'
          ? base.map((item) => ({ ...item, rationale: null }))
          : applySamplers(base, [await createSampler('rationale-rate', { rate: method.rate })], seed);
      return { examples: trainingExamplesFromItems(sampled), base };
    };

    /** Trains one student in a fresh folder with the cell's shared tokenizer; returns the worker's `done` event and the examples. */
    const trainStudent = async (
      label: string,
      name: 'esnli' | 'cqa',
      cell: { fraction: number; seed: number; method: Method; student: StudentCandidate; withTest: boolean },
    ) => {
      const { directory, validationFile, testFile } = prepared.get(name)!;
      const { examples, base } = await methodExamples(name, cell.fraction, cell.seed, cell.method);
      const tokenizer = await cellTokenizer(name, cell.fraction, cell.seed, base);
      const runDirectory = path.join(directory, label);
      const trainFile = path.join(runDirectory, 'train.jsonl');
      mkdirSync(runDirectory, { recursive: true });
      // The worker uses a tokenizer folder it finds in its output folder instead of training its own.
      cpSync(tokenizer, path.join(runDirectory, 'tokenizer'), { recursive: true });
      writeFileSync(trainFile, examples.map((example) => JSON.stringify(example)).join('\n') + '\n');
      const files = cell.withTest
        ? { train: trainFile, validation: validationFile, test: testFile }
        : { train: trainFile, validation: validationFile };
      const alpha = cell.method.name === 'standard' ? 1 : 0.5;
      const request = trainRequest(runDirectory, files, cell.student, training, maxInputLength[name], alpha, cell.seed, steps);
      const requestFile = path.join(runDirectory, 'bench-request.json');
      writeFileSync(requestFile, JSON.stringify(request));
      const started = performance.now();
      const done = await runWorker(requestFile, training.threads_per_training);
      // The worker would have replaced the folder with a tokenizer of its own had it not used the shared one.
      const tokenizerFile = (folder: string) => readFileSync(path.join(folder, 'tokenizer.json'), 'utf8');
      if (tokenizerFile(path.join(runDirectory, 'tokenizer')) !== tokenizerFile(tokenizer))
        throw new Error(`${label}: the worker did not train with the shared tokenizer ${tokenizer}`);
      rmSync(runDirectory, { recursive: true, force: true });
      return { done, examples, seconds: Math.round((performance.now() - started) / 100) / 10 };
    };

    // 1. The student size of each dataset, on validation only (kept from the previous result file when it has it).
    const selectionMethods: Method[] = [{ name: 'standard' }, { name: 'step-by-step', rate: 1 }];
    const toSelect = [...prepared.keys()].filter((name) => !selections[name]);
    const selectionRuns = new Map<string, SelectionRun[]>(toSelect.map((name) => [name, []]));
    const selectionTasks = toSelect.flatMap((name) =>
      candidates.flatMap((student) =>
        selectionMethods.map((method) => async () => {
          const label = `select-${name}-${student.name}-${method.name === 'standard' ? 'standard' : `r${method.rate}`}`;
          const { done, seconds } = await trainStudent(label, name, {
            fraction: selectionFraction,
            seed: selectionSeed,
            method,
            student,
            withTest: false,
          });
          if (done.test_accuracy !== null && done.test_accuracy !== undefined)
            throw new Error(`${label}: the worker scored a test set it was not given`);
          const run: SelectionRun = {
            student: student.name,
            method: method.name === 'standard' ? 'standard' : `step-by-step r=${method.rate}`,
            validation_accuracy: (done.validation_accuracy as number | null) ?? null,
            best_step: (done.best_step as number | null) ?? null,
            seconds,
          };
          selectionRuns.get(name)!.push(run);
          console.log(`  size selection ${label}: validation ${run.validation_accuracy} (best step ${run.best_step}, ${seconds} s)`);
        }),
      ),
    );
    if (selectionTasks.length > 0) console.log(`  ${selectionTasks.length} trainings to choose the student size, ${jobs} at once`);
    await runPool(selectionTasks, jobs);
    for (const [name, runs] of selectionRuns) {
      const mean = Object.fromEntries(
        candidates.map((student) => {
          const scores = runs.filter((run) => run.student === student.name).map((run) => run.validation_accuracy ?? 0);
          return [student.name, Math.round((scores.reduce((total, score) => total + score, 0) / scores.length) * 1e4) / 1e4];
        }),
      );
      // Candidates are listed smallest first, so a tie keeps the smaller.
      const chosen = candidates.reduce((best, student) => (mean[student.name]! > mean[best.name]! ? student : best)).name;
      const order = (run: SelectionRun) => candidates.findIndex((student) => student.name === run.student);
      runs.sort((left, right) => order(left) - order(right) || left.method.localeCompare(right.method));
      selections[name] = { runs, mean_validation_accuracy: mean, chosen };
      console.log(`  ${name}: student ${chosen} chosen on validation (mean validation accuracy ${JSON.stringify(mean)})`);
      context.save(outcome());
    }

    // 2. The grid with the chosen size; test scored once per training, on the checkpoint validation chose.
    const tasks: (() => Promise<void>)[] = [];
    // Seed by seed across the datasets, so that a grid stopped halfway has whole seeds of both.
    for (const seed of grid.seeds) {
      for (const [name, { testExamples }] of prepared) {
        const student = candidates.find((candidate) => candidate.name === selections[name]!.chosen)!;
        for (const fraction of grid.fractions) {
          for (const method of methods) {
            const key = rowKey({
              dataset: name,
              fraction,
              method: method.name,
              rationale_rate: method.name === 'standard' ? null : method.rate,
              seed,
            });
            if (rows.has(key)) continue;
            tasks.push(async () => {
              const label = `${name}-f${fraction}-${method.name === 'standard' ? 'standard' : `r${method.rate}`}-s${seed}`;
              const { done, examples, seconds } = await trainStudent(label, name, { fraction, seed, method, student, withTest: true });
              const row: QualityRow = {
                dataset: name,
                student: student.name,
                fraction,
                method: method.name,
                rationale_rate: method.name === 'standard' ? null : method.rate,
                seed,
                max_input_length: maxInputLength[name],
                train_examples: examples.length,
                with_rationale: examples.filter((example) => example.rationale !== '').length,
                validation_accuracy: (done.validation_accuracy as number | null) ?? null,
                test_accuracy: (done.test_accuracy as number | null) ?? null,
                test_examples: testExamples,
                best_step: (done.best_step as number | null) ?? null,
                seconds,
              };
              rows.set(key, row);
              context.save(outcome());
              console.log(
                `  ${label} (${student.name}): validation ${row.validation_accuracy}, test ${row.test_accuracy} (${row.seconds} s; ${rows.size} trainings in the result file)`,
              );
            });
          }
        }
      }
    }
    console.log(`  ${tasks.length} trainings to run, ${jobs} at once`);
    await runPool(tasks, jobs);
    return outcome();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
