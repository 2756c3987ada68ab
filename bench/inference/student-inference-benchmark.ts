import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportStudent } from '../../plugins/composition-root.js';
import { loadStudent, taskPrefixes } from '../../core/inference/load-student.js';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { benchPath, dsbsDirectory, pythonInterpreter } from '../support/bench-paths.js';
import { round3, summariseLatencies, type LatencySummary } from '../support/latency-statistics.js';
import type { BenchMode } from '../support/result-file.js';

/** What one runtime measured on the same student and inputs. */
interface RuntimeMeasurement {
  readonly runtime: string;
  readonly batch_one: LatencySummary & { readonly examples: number };
  readonly batched: {
    readonly batch_size: number;
    readonly examples: number;
    readonly seconds: number;
    readonly examples_per_second: number;
  };
  /** Share of the batch-1 inputs whose generated ids equal PyTorch's. */
  readonly agreement_with_pytorch: number | null;
  readonly mean_generated_tokens: number;
  /**
   * Cores other processes kept busy, on average, while the batch-1 inputs were timed (machine CPU
   * time minus this runtime's own process, over wall time); null for windows under 50 ms. On a
   * shared machine this tells which runtime was measured under whose load.
   */
  readonly other_processes_cores_during_batch_one: number | null;
}

/** Settings written into the result. */
export interface InferenceSettings {
  readonly student: string;
  readonly training_steps: number;
  readonly threads: number;
  readonly max_new_tokens: number;
  readonly batch_one_examples: number;
  readonly batch_size: number;
  readonly batches: number;
  readonly inputs: string;
  readonly targets: { readonly speedup_over_pytorch_batch_one: number; readonly speedup_over_transformers_js_batch_one: number };
}

/** Ids as every runtime is compared: without a decoder start token, up to (not including) `</s>`. */
function normaliseIds(ids: readonly number[], eosTokenId: number): number[] {
  const end = ids.indexOf(eosTokenId);
  return (end < 0 ? [...ids] : ids.slice(0, end)).filter((id) => id !== 0);
}

/** Runs a program to its end and returns its stdout; a non-zero exit rejects with the end of its stderr. */
export function runProcess(command: string, argumentsList: readonly string[], environment: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argumentsList, { stdio: ['ignore', 'pipe', 'pipe'], env: environment });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString('utf8')).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${path.basename(argumentsList[0] ?? command)} exited with code ${code}:\n${errors}`)),
    );
  });
}

/** The environment of a child process that computes on `threads` threads (and no tokenizer threads). */
export function threadEnvironment(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), TOKENIZERS_PARALLELISM: 'false' };
}

/** e-SNLI valid with PaLM rationales, the training data of the student. */
async function writeTrainingData(file: string, limit: number): Promise<void> {
  const dependencies = benchDependencies();
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create({ name: 'esnli', root: dsbsDirectory }, dependencies)) as Dataset;
  const parser = (await builtinDescriptor('parser', 'palm').create({ dataset: 'esnli' }, dependencies)) as Parser;
  const recordings = await readDsbsRecordings(dsbsDirectory, 'esnli', 'valid');
  const lines: string[] = [];
  for await (const example of dataset.read('valid')) {
    if (lines.length >= limit) break;
    const completion = recordings.get(example.id);
    const rationale = completion === undefined ? null : parser.parse(completion, example).rationale;
    lines.push(
      JSON.stringify({ id: example.id, input: dataset.studentInput(example), label: example.goldLabel, rationale: rationale ?? '' }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

/** `predict: ` inputs from e-SNLI test, as the student serves them. */
async function testInputs(count: number): Promise<string[]> {
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create(
    { name: 'esnli', root: dsbsDirectory },
    benchDependencies(),
  )) as Dataset;
  const texts: string[] = [];
  for await (const example of dataset.read('test')) {
    if (texts.length >= count) break;
    texts.push(taskPrefixes.predict + dataset.studentInput(example));
  }
  return texts;
}

/** Shortest timing window over which the cores used by other processes are reported. */
const minimumLoadWindowMilliseconds = 50;

/** Milliseconds of CPU time the whole machine has spent busy (every core, every process). */
function machineBusyMilliseconds(): number {
  return os.cpus().reduce((total, cpu) => total + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

async function timeBatchOne(
  texts: readonly string[],
  generate: (text: string) => Promise<number[]>,
): Promise<{ latencies: number[]; ids: number[][]; otherProcessesCores: number | null }> {
  const latencies: number[] = [];
  const ids: number[][] = [];
  const busyBefore = machineBusyMilliseconds();
  const ownBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (const text of texts) {
    const started = performance.now();
    ids.push(await generate(text));
    latencies.push(performance.now() - started);
  }
  const own = process.cpuUsage(ownBefore);
  const busy = machineBusyMilliseconds() - busyBefore;
  const wall = performance.now() - wallBefore;
  // The OS counts CPU time in ticks (10 ms): shorter windows say nothing.
  const otherProcessesCores =
    wall >= minimumLoadWindowMilliseconds ? round3(Math.max(0, busy - (own.user + own.system) / 1000) / wall) : null;
  return { latencies, ids, otherProcessesCores };
}

async function timeBatched(
  texts: readonly string[],
  batchSize: number,
  batches: number,
  generate: (batch: readonly string[]) => Promise<unknown>,
) {
  await generate(texts.slice(0, batchSize));
  const started = performance.now();
  let examples = 0;
  for (let index = 0; index < batches; index++) {
    const batch = texts.slice(index * batchSize, (index + 1) * batchSize);
    await generate(batch);
    examples += batch.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { batch_size: batchSize, examples, seconds: round3(seconds), examples_per_second: round3(examples / seconds) };
}

/** One line per runtime as it finishes, so a run can be judged before the result file is written. */
function report(measurement: RuntimeMeasurement): void {
  const { p50_ms: p50, p95_ms: p95, mean_ms: mean } = measurement.batch_one;
  const others = measurement.other_processes_cores_during_batch_one;
  console.log(
    `    ${measurement.runtime}: batch 1 p50 ${p50.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, mean ${mean.toFixed(2)} ms; ` +
      `batch ${measurement.batched.batch_size} ${measurement.batched.examples_per_second.toFixed(0)} ex/s; ` +
      `same ids as PyTorch ${measurement.agreement_with_pytorch === null ? 'n/a' : `${(measurement.agreement_with_pytorch * 100).toFixed(0)}%`}` +
      (others === null ? '' : `; other processes ${others.toFixed(2)} cores`),
  );
}

function agreement(ids: readonly number[][], reference: readonly number[][]): number {
  const same = ids.filter((row, index) => JSON.stringify(row) === JSON.stringify(reference[index])).length;
  return round3(same / Math.max(1, ids.length));
}

/**
 * Student inference on one exported student: onnxruntime-node through `loadStudent` (fp32 and
 * int8, with its defaults and with `spinning: true`), PyTorch eager `generate`, and transformers.js,
 * on the same e-SNLI test inputs and threads; each runtime at its own defaults otherwise. The student
 * is trained for the bench by the worker and exported by the `onnx` exporter. Runtimes run one
 * after another, each closed before the next starts, so no idle thread pool competes with the one measured.
 */
export async function runStudentInferenceBenchmark(mode: BenchMode) {
  const smoke = mode === 'smoke';
  const threads = Math.min(2, os.cpus().length);
  const settings: InferenceSettings = {
    student: smoke ? 'd64/ff256/h2/1+1 (smoke)' : 'reference-256: d_model 256, d_ff 1024, 4 heads, 2+2 layers',
    training_steps: { smoke: 20, quick: 200, full: 400 }[mode],
    threads,
    max_new_tokens: 32,
    batch_one_examples: { smoke: 8, quick: 100, full: 200 }[mode],
    batch_size: 32,
    batches: { smoke: 1, quick: 4, full: 8 }[mode],
    inputs: 'e-SNLI test, "predict: premise </s> hypothesis"',
    targets: { speedup_over_pytorch_batch_one: 5, speedup_over_transformers_js_batch_one: 2 },
  };
  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-inference-'));
  try {
    const data = path.join(work, 'train.jsonl');
    await writeTrainingData(data, smoke ? 500 : 9842);
    const config = smoke
      ? { d_model: 64, d_ff: 256, d_kv: 32, num_heads: 2, num_layers: 1, num_decoder_layers: 1 }
      : { d_model: 256, d_ff: 1024, d_kv: 64, num_heads: 4, num_layers: 2, num_decoder_layers: 2 };
    const request = {
      type: 'train',
      protocol: 1,
      request: {
        output_directory: path.join(work, 'train'),
        data: { train: data },
        student: {
          size: 'custom',
          config,
          tokenizer: { type: 'unigram', vocab_size: smoke ? 2000 : 8000 },
          max_input_length: 128,
          max_target_length: 64,
        },
        alpha: { start: 0.5, end: 0.5 },
        metric: 'exact-match',
        seed: 42,
        resume: false,
        options: {
          batch_size: 32,
          max_steps: settings.training_steps,
          threads,
          learning_rate: 1e-3,
          eval_every: settings.training_steps + 1,
          checkpoint_every: settings.training_steps + 1,
          log_every: 50,
        },
        options_schema: workerOptionsSchema,
      },
    };
    const requestFile = path.join(work, 'request.json');
    writeFileSync(requestFile, JSON.stringify(request));
    console.log(`  training the student (${settings.training_steps} steps)…`);
    await runProcess(pythonInterpreter, [workerMainScript, '--request', requestFile], threadEnvironment(threads));
    const checkpoint = path.join(work, 'train', 'best');
    const exported = path.join(work, 'exported');
    console.log('  exporting it to ONNX (fp32 and int8)…');
    const exportResult = await exportStudent({ checkpoint, output: exported, quantize: true, python: pythonInterpreter });

    const needed = Math.max(settings.batch_one_examples + 5, settings.batch_size * settings.batches);
    const texts = await testInputs(needed);
    const batchOneTexts = texts.slice(5, 5 + settings.batch_one_examples);
    const warmup = 5;

    // PyTorch eager, in its own process with the same threads.
    const inputsFile = path.join(work, 'inputs.json');
    writeFileSync(inputsFile, JSON.stringify([...texts.slice(0, 5), ...batchOneTexts]));
    const batchedFile = path.join(work, 'batched-inputs.json');
    writeFileSync(batchedFile, JSON.stringify(texts));
    console.log('  PyTorch eager…');
    const pytorchOne = JSON.parse(
      (
        await runProcess(
          pythonInterpreter,
          [
            benchPath('inference', 'pytorch_generate.py'),
            '--checkpoint',
            checkpoint,
            '--inputs',
            inputsFile,
            '--threads',
            String(threads),
            '--max-new-tokens',
            String(settings.max_new_tokens),
            '--batch-one',
            String(batchOneTexts.length + 5),
            '--batch-size',
            String(settings.batch_size),
            '--batches',
            '0',
            '--warmup',
            String(warmup),
          ],
          threadEnvironment(threads),
        )
      )
        .trim()
        .split('\n')
        .at(-1)!,
    ) as { latencies_ms: number[]; batch_ids: number[][]; other_processes_cores: number | null };
    const pytorchBatched = JSON.parse(
      (
        await runProcess(
          pythonInterpreter,
          [
            benchPath('inference', 'pytorch_generate.py'),
            '--checkpoint',
            checkpoint,
            '--inputs',
            batchedFile,
            '--threads',
            String(threads),
            '--max-new-tokens',
            String(settings.max_new_tokens),
            '--batch-one',
            '0',
            '--batch-size',
            String(settings.batch_size),
            '--batches',
            String(settings.batches),
            '--warmup',
            '0',
          ],
          threadEnvironment(threads),
        )
      )
        .trim()
        .split('\n')
        .at(-1)!,
    ) as { batched_examples: number; batched_seconds: number };
    // The first five texts were warm-up in the Python run too.
    const pytorchIds = pytorchOne.batch_ids.slice(5);
    const pytorchLatencies = pytorchOne.latencies_ms.slice(5);
    const measurements: RuntimeMeasurement[] = [
      {
        runtime: 'PyTorch eager generate',
        batch_one: { ...summariseLatencies(pytorchLatencies), examples: pytorchLatencies.length },
        batched: {
          batch_size: settings.batch_size,
          examples: pytorchBatched.batched_examples,
          seconds: round3(pytorchBatched.batched_seconds),
          examples_per_second: round3(pytorchBatched.batched_examples / pytorchBatched.batched_seconds),
        },
        agreement_with_pytorch: 1,
        mean_generated_tokens: round3(pytorchIds.reduce((total, ids) => total + ids.length, 0) / Math.max(1, pytorchIds.length)),
        other_processes_cores_during_batch_one: pytorchOne.other_processes_cores,
      },
    ];
    report(measurements[0]!);

    // loadStudent's defaults first (its workers sleep between operators), then with `spinning: true`, the
    // setting for cores of its own: which one wins depends on whether other processes share the cores.
    const onnxRuntimeRuns = [
      { precision: 'fp32', spinning: false },
      { precision: 'int8', spinning: false },
      { precision: 'fp32', spinning: true },
      { precision: 'int8', spinning: true },
    ] as const;
    for (const { precision, spinning } of onnxRuntimeRuns) {
      const name = `onnxruntime-node ${precision} (loadStudent${spinning ? ', spinning' : ''})`;
      console.log(`  ${name}…`);
      const student = await loadStudent(exported, {
        precision,
        intraOpThreads: threads,
        spinning,
        maxNewTokens: settings.max_new_tokens,
        batchSize: settings.batch_size,
      });
      try {
        // The student tokenizers distill trains put </s> at id 1 and <pad> at 0 (tokenizer_training.py).
        const eos = 1;
        const generateOne = async (text: string) => normaliseIds((await student.generateIds([text]))[0]!, eos);
        await timeBatchOne(texts.slice(0, warmup), generateOne);
        const timed = await timeBatchOne(batchOneTexts, generateOne);
        const batched = await timeBatched(texts, settings.batch_size, settings.batches, (batch) => student.generateIds(batch));
        measurements.push({
          runtime: name,
          batch_one: { ...summariseLatencies(timed.latencies), examples: timed.latencies.length },
          batched,
          agreement_with_pytorch: agreement(timed.ids, pytorchIds),
          mean_generated_tokens: round3(timed.ids.reduce((total, ids) => total + ids.length, 0) / Math.max(1, timed.ids.length)),
          other_processes_cores_during_batch_one: timed.otherProcessesCores,
        });
        report(measurements.at(-1)!);
      } finally {
        await student.close();
      }
    }

    console.log('  transformers.js fp32…');
    const { env, AutoTokenizer, AutoModelForSeq2SeqLM } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = '/';
    const tokenizer = await AutoTokenizer.from_pretrained(exported);
    // The same thread count as the other runtimes (its onnxruntime-node default would take every core).
    const model = await AutoModelForSeq2SeqLM.from_pretrained(exported, {
      dtype: 'fp32',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
    try {
      const generate = async (batch: readonly string[]) => {
        const inputs = tokenizer([...batch], { padding: true });
        const output = (await model.generate({ ...inputs, max_new_tokens: settings.max_new_tokens, do_sample: false, num_beams: 1 })) as {
          tolist(): bigint[][];
        };
        return output.tolist().map((row) => normaliseIds(row.map(Number).slice(1), 1));
      };
      await timeBatchOne(texts.slice(0, warmup), async (text) => (await generate([text]))[0]!);
      const timed = await timeBatchOne(batchOneTexts, async (text) => (await generate([text]))[0]!);
      const batched = await timeBatched(texts, settings.batch_size, settings.batches, generate);
      measurements.push({
        runtime: 'transformers.js fp32',
        batch_one: { ...summariseLatencies(timed.latencies), examples: timed.latencies.length },
        batched,
        agreement_with_pytorch: agreement(timed.ids, pytorchIds),
        mean_generated_tokens: round3(timed.ids.reduce((total, ids) => total + ids.length, 0) / Math.max(1, timed.ids.length)),
        other_processes_cores_during_batch_one: timed.otherProcessesCores,
      });
      report(measurements.at(-1)!);
    } finally {
      await model.dispose();
    }

    const pytorchP50 = measurements[0]!.batch_one.p50_ms;
    const transformersJsP50 = measurements.at(-1)!.batch_one.p50_ms;
    const speedupsOf = (runtime: (typeof measurements)[number]) => ({
      over_pytorch: round3(pytorchP50 / runtime.batch_one.p50_ms),
      over_transformers_js: round3(transformersJsP50 / runtime.batch_one.p50_ms),
    });
    return {
      settings,
      results: {
        export: {
          files: exportResult.files,
          megabytes: round3(exportResult.bytes / 2 ** 20),
          quantization: exportResult.quantization ?? null,
        },
        runtimes: measurements,
        onnxruntime_fp32_speedup_batch_one: speedupsOf(measurements[1]!),
        onnxruntime_int8_speedup_batch_one: speedupsOf(measurements[2]!),
        onnxruntime_fp32_spinning_speedup_batch_one: speedupsOf(measurements[3]!),
        onnxruntime_int8_spinning_speedup_batch_one: speedupsOf(measurements[4]!),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
