import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportStudent } from '../../plugins/composition-root.js';
import { loadStudent, taskPrefixes, type LoadStudentOptions } from '../../core/inference/load-student.js';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { benchPath, dsbsDirectory, pythonInterpreter } from '../support/bench-paths.js';
import { round3 } from '../support/latency-statistics.js';
import type { BenchMode } from '../support/result-file.js';
import { lastJsonLine, runProcess, threadEnvironment } from './child-process.js';
import { forcedLengthCopy } from './forced-length-folder.js';
import { floor, measureCeilings, type Floor, type MachineCeilings } from './inference-floors.js';
import { median, rotated, spread, type Spread } from '../support/repeat-statistics.js';
import { inferenceEnvironment, threadPolicy, transformersJsSessionOptions } from './thread-policy.js';

/** What one runtime measured in one repeat, per batch size: raw times and ids. */
interface WorkloadTimes {
  /** `predict: ` texts, one call per batch, stopping at `</s>`. */
  readonly label: Record<string, { call_ms: number[]; ids: number[][] }>;
  /** `explain: ` texts on the forced-length folder: each batch generating one token, then all of them. */
  readonly rationale: Record<string, { first_ms: number[]; whole_ms: number[]; ids: number[][] }>;
  /** Milliseconds to create the runtime's sessions (both folders), when the bench can see them. */
  readonly load_ms?: number;
}

/** One runtime at one batch size over every repeat: medians of each repeat's median, with their range. */
interface BatchRow {
  readonly batch_size: number;
  /** A label call: encoder, the label's tokens and `</s>`. */
  readonly label_call_ms: Spread;
  /** One decoding step of a rationale (it generates `batch_size` tokens): (whole − first) / (new tokens − 1). */
  readonly rationale_step_ms: Spread;
  /** The rationale call generating one token: encoder and first step. */
  readonly rationale_first_ms: Spread;
}

/** One runtime over every repeat. */
interface RuntimeRow {
  readonly runtime: string;
  readonly batches: BatchRow[];
  readonly load_ms: Spread | null;
  /** Share of batch-1 outputs whose ids equal PyTorch `generate`'s (labels, rationales). */
  readonly same_as_pytorch: { readonly labels: number; readonly rationales: number } | null;
  readonly mean_label_tokens: number;
}

/** What `pytorch_generate.py` says of the model, for the floors. */
interface ModelDescription {
  readonly encoder_weights_per_input_token: number;
  readonly cross_kv_weights_per_input_token: number;
  readonly decoder_weights_per_step: number;
  readonly parameters: number;
  readonly mean_label_input_tokens: number;
  readonly mean_rationale_input_tokens: number;
}

/** A runtime as the bench drives it: loaded, timed over every workload and closed, once per repeat. */
interface Runtime {
  /** The rows it measures (PyTorch measures two ways in one process). */
  readonly names: readonly string[];
  measure(): Promise<WorkloadTimes[]>;
}

/** The texts and sizes every runtime is given. */
interface Job {
  readonly labelTexts: readonly string[];
  readonly rationaleTexts: readonly string[];
  readonly batchSizes: readonly number[];
  readonly maxNewTokens: number;
  /** Leading calls of each workload and batch size left out (warm-up). */
  readonly warmup: number;
}

/** Ids as every runtime is compared: without a decoder start token, up to (not including) `</s>`. */
function normaliseIds(ids: readonly number[], eosTokenId: number): number[] {
  const end = ids.indexOf(eosTokenId);
  return (end < 0 ? [...ids] : ids.slice(0, end)).filter((id) => id !== 0);
}

/** The student tokenizers distill trains put `</s>` at id 1 and `<pad>` at 0 (tokenizer_training.py). */
const endTokenId = 1;

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

/** e-SNLI test inputs (without task prefix) and their gold labels. */
async function testExamples(count: number): Promise<{ input: string; label: string }[]> {
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create(
    { name: 'esnli', root: dsbsDirectory },
    benchDependencies(),
  )) as Dataset;
  const examples: { input: string; label: string }[] = [];
  for await (const example of dataset.read('test')) {
    if (examples.length >= count) break;
    examples.push({ input: dataset.studentInput(example), label: example.goldLabel ?? '' });
  }
  return examples;
}

/** The batches of `texts` at `size`. */
function batchesOf<Item>(texts: readonly Item[], size: number): Item[][] {
  const batches: Item[][] = [];
  for (let start = 0; start < texts.length; start += size) batches.push(texts.slice(start, start + size));
  return batches;
}

/**
 * Times a Node runtime over the job as `pytorch_generate.py` times PyTorch: labels one call per batch,
 * rationales each batch with one new token and then all of them, the first `warmup` calls left out.
 */
async function timeWorkloads(
  job: Job,
  generateLabels: (batch: readonly string[]) => Promise<number[][]>,
  generateRationales: (batch: readonly string[], newTokens: number) => Promise<number[][]>,
): Promise<WorkloadTimes> {
  const times: WorkloadTimes = { label: {}, rationale: {} };
  for (const batchSize of job.batchSizes) {
    const label = { call_ms: [] as number[], ids: [] as number[][] };
    for (const [index, batch] of batchesOf(job.labelTexts, batchSize).entries()) {
      const started = performance.now();
      const ids = await generateLabels(batch);
      const elapsed = performance.now() - started;
      if (index < job.warmup) continue;
      label.call_ms.push(elapsed);
      label.ids.push(...ids.map((row) => normaliseIds(row, endTokenId)));
    }
    const rationale = { first_ms: [] as number[], whole_ms: [] as number[], ids: [] as number[][] };
    for (const [index, batch] of batchesOf(job.rationaleTexts, batchSize).entries()) {
      let started = performance.now();
      await generateRationales(batch, 1);
      const first = performance.now() - started;
      started = performance.now();
      const ids = await generateRationales(batch, job.maxNewTokens);
      const whole = performance.now() - started;
      if (index < job.warmup) continue;
      rationale.first_ms.push(first);
      rationale.whole_ms.push(whole);
      rationale.ids.push(...ids);
    }
    times.label[String(batchSize)] = label;
    times.rationale[String(batchSize)] = rationale;
  }
  return times;
}

/** onnxruntime-node through `loadStudent` with `options` (threads and spin policy: the bench's). */
function onnxRuntime(name: string, folders: { label: string; forced: string }, options: LoadStudentOptions, job: Job): Runtime {
  return {
    names: [name],
    async measure() {
      const started = performance.now();
      const students = await Promise.all(
        [folders.label, folders.forced].map((folder) => loadStudent(folder, { ...options, batchSize: Math.max(...job.batchSizes) })),
      );
      const loadMs = performance.now() - started;
      const [labels, rationales] = students as [(typeof students)[0], (typeof students)[0]];
      try {
        const times = await timeWorkloads(
          job,
          (batch) => labels.generateIds(batch, job.maxNewTokens),
          (batch, newTokens) => rationales.generateIds(batch, newTokens),
        );
        return [{ ...times, load_ms: loadMs }];
      } finally {
        for (const student of students) await student.close();
      }
    },
  };
}

/** transformers.js `AutoModelForSeq2SeqLM.generate` on the same folders, offline, with the same session options. */
function transformersJsRuntime(folders: { label: string; forced: string }, threads: number, job: Job): Runtime {
  return {
    names: ['transformers.js fp32 (generate)'],
    async measure() {
      const { env, AutoTokenizer, AutoModelForSeq2SeqLM } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = '/';
      const tokenizer = await AutoTokenizer.from_pretrained(folders.label);
      const started = performance.now();
      const options = { dtype: 'fp32' as const, session_options: transformersJsSessionOptions(threads) };
      const labelModel = await AutoModelForSeq2SeqLM.from_pretrained(folders.label, options);
      const forcedModel = await AutoModelForSeq2SeqLM.from_pretrained(folders.forced, options);
      const loadMs = performance.now() - started;
      const generate = async (model: typeof labelModel, batch: readonly string[], newTokens: number) => {
        const inputs = tokenizer([...batch], { padding: true });
        const output = (await model.generate({ ...inputs, max_new_tokens: newTokens, do_sample: false, num_beams: 1 })) as {
          tolist(): bigint[][];
        };
        // Drop the decoder start token, as the Node decoder returns ids.
        return output.tolist().map((row) => row.map(Number).slice(1));
      };
      try {
        const times = await timeWorkloads(
          job,
          (batch) => generate(labelModel, batch, job.maxNewTokens),
          (batch, newTokens) => generate(forcedModel, batch, newTokens),
        );
        return [{ ...times, load_ms: loadMs }];
      } finally {
        await labelModel.dispose();
        await forcedModel.dispose();
      }
    },
  };
}

/** PyTorch `generate` and the hand-written KV-cache loop, interleaved in one child per repeat. */
function pytorchRuntime(
  checkpoints: { label: string; forced: string },
  work: string,
  threads: number,
  job: Job,
  onModel: (model: ModelDescription) => void,
): Runtime {
  return {
    names: ['PyTorch eager generate', 'PyTorch KV-cache loop (past_key_values by hand)'],
    async measure() {
      const jobFile = path.join(work, 'pytorch-job.json');
      writeFileSync(
        jobFile,
        JSON.stringify({
          checkpoint: checkpoints.label,
          forced_checkpoint: checkpoints.forced,
          threads,
          label_texts: job.labelTexts,
          rationale_texts: job.rationaleTexts,
          batch_sizes: job.batchSizes,
          max_new_tokens: job.maxNewTokens,
          warmup: job.warmup,
        }),
      );
      const measured = lastJsonLine(
        await runProcess(
          pythonInterpreter,
          [benchPath('inference', 'pytorch_generate.py'), '--job', jobFile],
          inferenceEnvironment(threads),
        ),
      ) as { generate: WorkloadTimes; kv_loop: WorkloadTimes; model: ModelDescription };
      onModel(measured.model);
      return [measured.generate, measured.kv_loop];
    },
  };
}

/** One repeat's medians of one runtime at one batch size. */
function repeatMedians(times: WorkloadTimes, batchSize: number, newTokens: number) {
  const label = times.label[String(batchSize)]!;
  const rationale = times.rationale[String(batchSize)]!;
  const steps = rationale.whole_ms.map((whole, index) => (whole - rationale.first_ms[index]!) / (newTokens - 1));
  return { label: median(label.call_ms), step: median(steps), first: median(rationale.first_ms) };
}

function sameIds(ids: readonly number[][], reference: readonly number[][]): number {
  const same = ids.filter((row, index) => JSON.stringify(row) === JSON.stringify(reference[index])).length;
  return round3(same / Math.max(1, ids.length));
}

/** fp32 and int8 label accuracy of the exported student on e-SNLI test, with `loadStudent`'s defaults but the bench's threads. */
async function int8Accuracy(folder: string, examples: readonly { input: string; label: string }[], threads: number) {
  const labels: Record<string, string[]> = {};
  for (const precision of ['fp32', 'int8'] as const) {
    const student = await loadStudent(folder, { precision, intraOpThreads: threads });
    try {
      labels[precision] = (await student.predict(examples.map((example) => example.input))).map((prediction) => prediction.label);
    } finally {
      await student.close();
    }
  }
  const accuracyOf = (predicted: readonly string[]) =>
    round3(predicted.filter((label, index) => label === examples[index]!.label).length / Math.max(1, examples.length));
  const fp32 = accuracyOf(labels.fp32!);
  const int8 = accuracyOf(labels.int8!);
  return {
    split: 'e-SNLI test',
    examples: examples.length,
    fp32,
    int8,
    int8_minus_fp32_points: round3((int8 - fp32) * 100),
    same_labels: sameIds(
      labels.int8!.map((label) => [label.length, ...Buffer.from(label)]),
      labels.fp32!.map((label) => [label.length, ...Buffer.from(label)]),
    ),
    rule: 'int8 becomes the default only where it costs under half a point of accuracy',
  };
}

/**
 * Student inference as users run it, on one exported T5 student: per call for labels (`predict: `,
 * stopping at `</s>`) and per generated token for rationales (`explain: `, exactly `max_new_tokens`
 * tokens: the bench's copies of the folders make the end token unreachable), at batch 1 and 8, for
 * PyTorch `generate` and a hand-written KV-cache loop, onnxruntime-node through `loadStudent` (fp32 with
 * its defaults, with each speed option off or on, int8) and transformers.js, all under one thread and
 * spin policy ({@link threadPolicy}). Repeats are interleaved (each repeat loads, times and closes every
 * runtime in turn, starting one runtime further each repeat) and each figure is the median over repeats of the repeat's median, with its range.
 * Beside them: the compute floor (matmul FLOPs / measured fp32 matmul peak) and the memory floor (bytes
 * of weights read / measured copy bandwidth), and int8 against fp32 accuracy on e-SNLI test.
 */
export async function runStudentInferenceBenchmark(mode: BenchMode) {
  const smoke = mode === 'smoke';
  const threads = Math.min(2, os.cpus().length);
  const settings = {
    student: smoke ? 'd64/ff256/h2/1+1 (smoke)' : 'reference-256: d_model 256, d_ff 1024, 4 heads, 2+2 layers',
    training_steps: { smoke: 20, quick: 200, full: 400 }[mode],
    threads,
    thread_policy: threadPolicy(threads),
    max_new_tokens: 32,
    rationale_tokens: 'exactly max_new_tokens: the end token is replaced by the vocabulary size (unreachable) in copies of the folders',
    batch_sizes: [1, 8],
    label_texts: { smoke: 10, quick: 64, full: 128 }[mode],
    rationale_texts: { smoke: 9, quick: 32, full: 64 }[mode],
    warmup_calls: 1,
    repeats: { smoke: 3, quick: 3, full: 5 }[mode],
    runtime_order: 'rotated: each repeat starts one runtime further, so that no runtime always runs first',
    accuracy_examples: { smoke: 24, quick: 2000, full: 9824 }[mode],
    inputs: 'e-SNLI test, "predict: " / "explain: " + "premise </s> hypothesis"',
    statistics: 'each figure: median over the repeats of the median over a repeat’s calls; range = min–max of the repeat medians',
    targets: {
      node_per_token_speedup_over_transformers_js: 1.5,
      label_batch_one_within_compute_floor: 1.5,
    },
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
    const forcedExported = forcedLengthCopy(exported, path.join(work, 'exported-forced'));
    const forcedCheckpoint = forcedLengthCopy(checkpoint, path.join(work, 'checkpoint-forced'));

    const examples = await testExamples(Math.max(settings.accuracy_examples, settings.label_texts + settings.rationale_texts));
    const job: Job = {
      labelTexts: examples.slice(0, settings.label_texts).map((example) => taskPrefixes.predict + example.input),
      rationaleTexts: examples
        .slice(settings.label_texts, settings.label_texts + settings.rationale_texts)
        .map((example) => taskPrefixes.explain + example.input),
      batchSizes: settings.batch_sizes,
      maxNewTokens: settings.max_new_tokens,
      warmup: settings.warmup_calls,
    };
    console.log('  the fp32 matmul peak and the memory bandwidth…');
    const ceilings = await measureCeilings(threads);

    const folders = { label: exported, forced: forcedExported };
    let model: ModelDescription | null = null;
    const base = { intraOpThreads: threads, spinning: false } as const;
    const runtimes: Runtime[] = [
      pytorchRuntime({ label: checkpoint, forced: forcedCheckpoint }, work, threads, job, (described) => (model = described)),
      onnxRuntime('onnxruntime-node fp32 (loadStudent defaults)', folders, base, job),
      onnxRuntime('onnxruntime-node fp32, reuseBuffers', folders, { ...base, reuseBuffers: true }, job),
      onnxRuntime(
        "onnxruntime-node fp32, graphOptimizationLevel 'disabled'",
        folders,
        { ...base, graphOptimizationLevel: 'disabled' },
        job,
      ),
      onnxRuntime('onnxruntime-node int8', folders, { ...base, precision: 'int8' }, job),
      transformersJsRuntime(folders, threads, job),
    ];
    const repeats = new Map<string, WorkloadTimes[]>(runtimes.flatMap((runtime) => runtime.names.map((name) => [name, []])));
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      // Each repeat starts one runtime further: the first runtime of a fixed order ran measurably
      // slower (one repeat's position, not the runtime's option, decided a before/after).
      for (const runtime of rotated(runtimes, repeat)) {
        const measured = await runtime.measure();
        for (const [index, name] of runtime.names.entries()) {
          repeats.get(name)!.push(measured[index]!);
          const one = repeatMedians(measured[index]!, 1, settings.max_new_tokens);
          console.log(
            `    repeat ${repeat + 1}, ${name}: label call ${one.label.toFixed(2)} ms, rationale step ${one.step.toFixed(2)} ms (batch 1)`,
          );
        }
      }
    }

    const reference = repeats.get(runtimes[0]!.names[0]!)!.at(-1)!;
    const rows: RuntimeRow[] = [...repeats.entries()].map(([name, measured]) => {
      const last = measured.at(-1)!;
      const loads = measured.flatMap((times) => (times.load_ms === undefined ? [] : [times.load_ms]));
      const labelIds = last.label['1']!.ids;
      return {
        runtime: name,
        batches: settings.batch_sizes.map((batchSize) => {
          const medians = measured.map((times) => repeatMedians(times, batchSize, settings.max_new_tokens));
          return {
            batch_size: batchSize,
            label_call_ms: spread(medians.map((value) => value.label)),
            rationale_step_ms: spread(medians.map((value) => value.step)),
            rationale_first_ms: spread(medians.map((value) => value.first)),
          };
        }),
        load_ms: loads.length > 0 ? spread(loads) : null,
        same_as_pytorch:
          name === runtimes[0]!.names[0]
            ? null
            : {
                labels: sameIds(labelIds, reference.label['1']!.ids),
                rationales: sameIds(last.rationale['1']!.ids, reference.rationale['1']!.ids),
              },
        mean_label_tokens: round3(labelIds.reduce((total, ids) => total + ids.length, 0) / Math.max(1, labelIds.length)),
      };
    });

    const described = model as ModelDescription | null;
    if (!described) throw new Error('pytorch_generate.py did not describe the model');
    const floors = studentFloors(described, ceilings, settings.batch_sizes, rows[0]!.mean_label_tokens);
    console.log('  int8 against fp32 accuracy…');
    const accuracy = await int8Accuracy(exported, examples.slice(0, settings.accuracy_examples), threads);
    return {
      settings,
      results: {
        export: {
          files: exportResult.files,
          megabytes: round3(exportResult.bytes / 2 ** 20),
          quantization: exportResult.quantization ?? null,
        },
        model: described,
        ceilings,
        floors,
        rows,
        targets: targetsMet(rows, floors),
        int8_accuracy: accuracy,
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The floors of a label call and of a rationale step at each batch size, fp32 weights. */
function studentFloors(model: ModelDescription, ceilings: MachineCeilings, batchSizes: readonly number[], labelTokens: number) {
  // The label's tokens and the step that produces `</s>`.
  const steps = labelTokens + 1;
  const encoderWeights = model.encoder_weights_per_input_token + model.cross_kv_weights_per_input_token;
  const floorsBySize: { batch_size: number; label_call: Floor; rationale_step: Floor }[] = batchSizes.map((batchSize) => ({
    batch_size: batchSize,
    // Matmul FLOPs: 2 per weight per token; weights read once per call (encoder) and once per step (decoder), shared by the batch.
    label_call: floor(
      ceilings,
      2 * batchSize * (encoderWeights * model.mean_label_input_tokens + model.decoder_weights_per_step * steps),
      4 * (encoderWeights + model.decoder_weights_per_step * steps),
    ),
    rationale_step: floor(ceilings, 2 * batchSize * model.decoder_weights_per_step, 4 * model.decoder_weights_per_step),
  }));
  return {
    what: 'matmul weights only (attention over the caches, embeddings and softmax left out), fp32 bytes; int8 reads about a quarter of them',
    label_decoder_steps: round3(steps),
    batches: floorsBySize,
  };
}

/** The targets, met or missed, from the medians. */
function targetsMet(rows: readonly RuntimeRow[], floors: ReturnType<typeof studentFloors>) {
  const transformersJs = rows.find((row) => row.runtime.startsWith('transformers.js'))!;
  const node = rows.filter((row) => row.runtime.startsWith('onnxruntime-node'));
  const batchOne = (row: RuntimeRow) => row.batches.find((batch) => batch.batch_size === 1)!;
  const labelFloor = floors.batches.find((batch) => batch.batch_size === 1)!.label_call.compute_ms;
  return node.map((row) => {
    const perToken = row.batches.map((batch) => ({
      batch_size: batch.batch_size,
      speedup_over_transformers_js: round3(
        transformersJs.batches.find((other) => other.batch_size === batch.batch_size)!.rationale_step_ms.median /
          batch.rationale_step_ms.median,
      ),
    }));
    const labelOverFloor = round3(batchOne(row).label_call_ms.median / labelFloor);
    return {
      runtime: row.runtime,
      per_token_over_transformers_js: perToken,
      per_token_target_met: perToken.every((entry) => entry.speedup_over_transformers_js >= 1.5),
      label_batch_one_over_compute_floor: labelOverFloor,
      label_floor_target_met: labelOverFloor <= 1.5,
    };
  });
}
