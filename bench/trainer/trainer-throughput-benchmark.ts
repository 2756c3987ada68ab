import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import type { JsonSchema } from '../../core/plugins/json-schema.js';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { benchPath, dsbsDirectory, pythonInterpreter } from '../support/bench-paths.js';
import type { BenchMode } from '../support/result-file.js';

/** T5 dimensions, as both the worker's `student.config` and the reference loop take them. */
interface StudentDimensions {
  readonly d_model: number;
  readonly d_ff: number;
  readonly d_kv: number;
  readonly num_heads: number;
  readonly num_layers: number;
  readonly num_decoder_layers: number;
  readonly dropout_rate: number;
}

/**
 * One row of the worker: any worker options (the torch trainer's options schema, checked by the worker;
 * an option left out takes the worker's default). `{ options: {} }` is the worker as shipped, the row
 * the targets judge. A new worker option becomes a row by adding `{ options: { <option>: <value> } }`
 * to a grid's variants; the row is named by its precision, thread wait and every option beyond
 * `task_passes`, `bf16`, `spinning` and `packing` (`separate, bf16, sleeping, packed, threads=2`).
 */
export interface WorkerVariant {
  readonly options: Readonly<Record<string, unknown>>;
}

/** One Hugging Face reference run: precision (`bf16`: `bf16=True`, autocast) and sampling (`group_by_length` or the default `random`). */
export interface ReferenceVariant {
  readonly precision: 'fp32' | 'bf16';
  readonly sampling: 'random' | 'group_by_length';
  /** The reference the speedup and its target are taken against. */
  readonly headline?: boolean;
}

/** One measured combination. */
interface GridPoint {
  readonly name: string;
  readonly config: StudentDimensions;
  readonly batch_size: number;
  readonly threads: number;
  readonly worker_variants: readonly WorkerVariant[];
  readonly references: readonly ReferenceVariant[];
}

/** Settings handed to `trainer_benchmark.py` and written into the result. */
export interface TrainerBenchSettings {
  readonly data: string;
  readonly data_description: string;
  readonly work_directory: string;
  readonly worker_main: string;
  readonly warmup_steps: number;
  readonly measured_steps: number;
  /** Interleaved rounds: every figure is the median of this many runs, each in its own process, with its min and max. */
  readonly repeats: number;
  readonly matmul_size: number;
  readonly max_input_length: number;
  readonly max_target_length: number;
  readonly alpha: number;
  readonly learning_rate: number;
  readonly tokenizer: { readonly type: 'unigram'; readonly vocab_size: number };
  /** What every train request carries: the schema the worker checks its options against and takes defaults from. */
  readonly options_schema: JsonSchema | string;
  readonly grid: readonly GridPoint[];
  readonly targets: { readonly speedup_over_reference: number; readonly share_of_matmul_peak: number };
}

/** The reference configuration of `platform-notes.md`: d_model 256, 4 heads, 2+2 layers, d_ff 1024. */
const referenceConfig: StudentDimensions = {
  d_model: 256,
  d_ff: 1024,
  d_kv: 64,
  num_heads: 4,
  num_layers: 2,
  num_decoder_layers: 2,
  dropout_rate: 0.1,
};
/** The worker's named `tiny` size. */
const tinyConfig: StudentDimensions = {
  d_model: 128,
  d_ff: 512,
  d_kv: 32,
  num_heads: 4,
  num_layers: 2,
  num_decoder_layers: 2,
  dropout_rate: 0.1,
};
/** Smaller still, for the smoke mode only. */
const smokeConfig: StudentDimensions = {
  d_model: 64,
  d_ff: 256,
  d_kv: 32,
  num_heads: 2,
  num_layers: 1,
  num_decoder_layers: 1,
  dropout_rate: 0.1,
};

/**
 * e-SNLI `valid` (the training split of the e-SNLI experiments) as `{id, input, label, rationale}`:
 * the `dsbs` dataset's student input (`premise </s> hypothesis`, or the `studentInput` template), the
 * gold label, and the real PaLM rationale parsed by the `palm` parser (empty where PaLM gave none).
 */
export async function writeTrainingData(
  file: string,
  limit: number | null,
  studentInput?: string,
): Promise<{ examples: number; withRationale: number }> {
  const dependencies = benchDependencies();
  const options = { name: 'esnli', root: dsbsDirectory, ...(studentInput === undefined ? {} : { student_input: studentInput }) };
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create(options, dependencies)) as Dataset;
  const parser = (await builtinDescriptor('parser', 'palm').create({ dataset: 'esnli' }, dependencies)) as Parser;
  const recordings = await readDsbsRecordings(dsbsDirectory, 'esnli', 'valid');
  const lines: string[] = [];
  let withRationale = 0;
  for await (const example of dataset.read('valid')) {
    if (limit !== null && lines.length >= limit) break;
    const completion = recordings.get(example.id);
    const rationale = completion === undefined ? null : parser.parse(completion, example).rationale;
    if (rationale) withRationale++;
    lines.push(
      JSON.stringify({ id: example.id, input: dataset.studentInput(example), label: example.goldLabel, rationale: rationale ?? '' }),
    );
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, lines.join('\n') + '\n');
  return { examples: lines.length, withRationale };
}

/**
 * The worker as shipped (its defaults: bf16 where native, `spinning: auto`, packed rows), with
 * sleeping OpenMP threads (`spinning: false`, the default before issue 18's thread policy), in fp32
 * to show what bf16 brings, without sequence packing and without the fused kernels (defaults since
 * issue 18), with widths left unrounded (`pad_to_multiple_of: 1`; 8 is the default since issue 18), and with
 * the task passes in turn (`parallel_task_passes: false`): each speed change before and after in the same rounds.
 */
const shippedSpinningFp32: readonly WorkerVariant[] = [
  { options: {} },
  { options: { spinning: false } },
  { options: { bf16: false } },
  { options: { packing: false } },
  { options: { fused_kernels: false } },
  { options: { pad_to_multiple_of: 1 } },
  { options: { parallel_task_passes: false } },
];

/**
 * The headline reference: Hugging Face's trainer as its user runs it for speed (`bf16=True`, length
 * grouping); then the paper's loop as the trainer's defaults run it (fp32, random order).
 */
const fairAndPaperReferences: readonly ReferenceVariant[] = [
  { precision: 'bf16', sampling: 'group_by_length', headline: true },
  { precision: 'fp32', sampling: 'random' },
];

function gridFor(mode: BenchMode): GridPoint[] {
  if (mode === 'smoke') {
    return [
      {
        name: 'smoke',
        config: smokeConfig,
        batch_size: 8,
        threads: 2,
        worker_variants: [{ options: {} }, { options: { task_passes: 'joint' } }],
        references: fairAndPaperReferences,
      },
    ];
  }
  if (mode === 'quick') {
    // The points the targets are set at (d_model 256, batch 16 and 32, 1 and 2 threads), with the
    // worker as shipped (packed rows, fused kernels, widths padded to a multiple of 8, `spinning: auto`),
    // without fused kernels, unpacked, with widths left unrounded (`pad_to_multiple_of: 1`), and
    // on two threads with sleeping threads (on one, auto sleeps anyway) and with the task passes in
    // turn (`parallel_task_passes: false`; one thread runs them in turn anyway); the full grid
    // adds the tiny size and the other variants.
    const grid: GridPoint[] = [];
    for (const threads of [1, 2]) {
      for (const batchSize of [16, 32]) {
        grid.push({
          name: 'reference-256',
          config: referenceConfig,
          batch_size: batchSize,
          threads,
          worker_variants: [
            { options: {} },
            { options: { fused_kernels: false } },
            { options: { packing: false } },
            { options: { pad_to_multiple_of: 1 } },
            ...(threads > 1 ? [{ options: { spinning: false } }, { options: { parallel_task_passes: false } }] : []),
          ],
          references: fairAndPaperReferences,
        });
      }
    }
    return grid;
  }
  const grid: GridPoint[] = [];
  const variants: readonly WorkerVariant[] = [...shippedSpinningFp32, { options: { task_passes: 'joint' } }];
  for (const threads of [1, 2]) {
    for (const [name, config] of [
      ['tiny', tinyConfig],
      ['reference-256', referenceConfig],
    ] as const) {
      for (const batchSize of [16, 32])
        grid.push({ name, config, batch_size: batchSize, threads, worker_variants: variants, references: fairAndPaperReferences });
    }
  }
  return grid;
}

/**
 * Writes `settings` where the Python driver reads them (`<work>/settings.json`), runs the driver, and returns
 * the settings as a result file records them: the temporary paths and the options schema named, not copied.
 */
export async function runDriverWithSettings<Settings extends { data: string; work_directory: string; options_schema: unknown }>(
  work: string,
  settings: Settings,
  script?: string,
): Promise<{ settings: Settings & { options_schema: string }; results: unknown }> {
  const settingsFile = path.join(work, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  const results = await runDriver(settingsFile, script);
  return {
    settings: {
      ...settings,
      data: '(temporary file, removed after the run)',
      work_directory: '(temporary, removed after the run)',
      options_schema: "(the torch trainer's worker options schema)",
    },
    results,
  };
}

/** Runs a Python driver of `bench/trainer/` and returns its JSON line; its progress lines (stderr) pass through. */
function runDriver(settingsFile: string, script = 'trainer_benchmark.py'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonInterpreter, [benchPath('trainer', script), settingsFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with code ${code}`));
        return;
      }
      resolve(JSON.parse(output.trim().split('\n').at(-1)!));
    });
  });
}

/**
 * The torch trainer worker against the Seq2SeqTrainer reference loops on real e-SNLI data with PaLM
 * rationales: same configuration, batch, data, optimizer, threads and steps, median of interleaved
 * repeats; the headline reference runs in bf16 with length grouping; see `trainer_benchmark.py`.
 */
export async function runTrainerThroughputBenchmark(mode: BenchMode): Promise<{ settings: TrainerBenchSettings; results: unknown }> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-trainer-'));
  try {
    const data = path.join(work, 'esnli-valid-train.jsonl');
    const written = await writeTrainingData(data, mode === 'smoke' ? 500 : null);
    const settings: TrainerBenchSettings = {
      data,
      data_description: `e-SNLI valid: ${written.examples} examples, gold labels, ${written.withRationale} with a PaLM rationale (palm parser), input "premise </s> hypothesis"`,
      work_directory: work,
      worker_main: workerMainScript,
      warmup_steps: mode === 'smoke' ? 2 : 5,
      measured_steps: { smoke: 5, quick: 20, full: 60 }[mode],
      repeats: mode === 'smoke' ? 1 : 3,
      matmul_size: mode === 'smoke' ? 512 : 2048,
      max_input_length: 128,
      max_target_length: 64,
      alpha: 0.5,
      learning_rate: 5e-4,
      tokenizer: { type: 'unigram', vocab_size: mode === 'smoke' ? 2000 : 8000 },
      options_schema: workerOptionsSchema,
      grid: gridFor(mode),
      targets: { speedup_over_reference: 1.5, share_of_matmul_peak: 0.6 },
    };
    return await runDriverWithSettings(work, settings);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
