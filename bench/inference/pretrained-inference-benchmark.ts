import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStudent, type LoadStudentOptions } from '../../core/inference/load-student.js';
import { promptText } from '../../core/inference/decoder-prompt.js';
import { readStudentFolder, type CausalLmStudentFolder } from '../../core/inference/student-folder.js';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import { exportStudent } from '../../plugins/composition-root.js';
import { workerOptionsSchema } from '../../plugins/trainers/torch/torch-trainer-options.js';
import { workerMainScript } from '../../plugins/trainers/torch/worker-location.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { benchPath, dsbsDirectory, pythonInterpreter } from '../support/bench-paths.js';
import { decoderStudentStart, quickstartFile, readRecipe, smollm2RecipeFile, studentBlock } from '../support/decoder-student-recipe.js';
import { round3 } from '../support/latency-statistics.js';
import type { BenchMode } from '../support/result-file.js';
import { writeTrainingData } from '../trainer/trainer-throughput-benchmark.js';
import { lastJsonLine, runProcess, threadEnvironment } from './child-process.js';
import { unreachableEndToken, vocabularySize } from './forced-length-folder.js';
import { floor, measureCeilings } from './inference-floors.js';
import { median, rotated, spread, type Spread } from '../support/repeat-statistics.js';
import { inferenceEnvironment, threadPolicy, transformersJsSessionOptions } from './thread-policy.js';

/** What one runtime measured in one repeat: medians over the prompts. */
interface RepeatMeasurement {
  /** One call generating one token: the prompt pass and one argmax (plus the call's own overhead). */
  readonly prompt_pass_ms: number;
  /** (whole generation − prompt pass) / (new tokens − 1): one generated token with the cache. */
  readonly per_token_ms: number;
  /** The whole generation of the fixed number of new tokens. */
  readonly generation_ms: number;
}

/** One runtime over every repeat. */
interface RuntimeResult {
  readonly runtime: string;
  readonly prompt_pass_ms: Spread;
  readonly per_token_ms: Spread;
  readonly generation_ms: Spread;
  readonly repeats: RepeatMeasurement[];
  /** Share of the prompts whose generated ids equal PyTorch's. */
  readonly same_as_pytorch: number | null;
}

/** What one way of running measured over the prompts of one repeat (the first `warmup` left out). */
interface PromptTimes {
  readonly promptMs: number[];
  readonly generationMs: number[];
  /** The generated ids of each prompt, as JSON. */
  readonly outputs: string[];
}

/** A runtime as the bench drives it: loaded once per repeat, then timed prompt by prompt. */
interface Runtime {
  /** The rows it measures (PyTorch measures `generate` and its own loop in one process). */
  readonly names: readonly string[];
  /** Times every batch of `batchSize` prompts (the first `warmup` batches left out), one entry per name. */
  measure(prompts: readonly string[], batchSize: number, warmup: number): Promise<PromptTimes[]>;
}

/** What `pytorch_causal_generate.py` says of the model, for the floors. */
interface CausalModelDescription {
  readonly weights_per_token: number;
  readonly parameters: number;
  readonly mean_prompt_tokens: number;
}

/** e-SNLI test inputs with the quickstart's student input template. */
async function testInputs(count: number, studentInput: string | undefined): Promise<string[]> {
  const options = { name: 'esnli', root: dsbsDirectory, ...(studentInput === undefined ? {} : { student_input: studentInput }) };
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create(options, benchDependencies())) as Dataset;
  const inputs: string[] = [];
  for await (const example of dataset.read('test')) {
    if (inputs.length >= count) break;
    inputs.push(dataset.studentInput(example));
  }
  return inputs;
}

/** The batches of `prompts` at `size`. */
function batchesOf(prompts: readonly string[], size: number): string[][] {
  const batches: string[][] = [];
  for (let start = 0; start < prompts.length; start += size) batches.push(prompts.slice(start, start + size));
  return batches;
}

/** onnxruntime-node through `loadStudent`: `generateIds` of one batch, one token, then all of them. */
function onnxRuntime(name: string, folder: string, options: LoadStudentOptions, newTokens: number): Runtime {
  return {
    names: [name],
    async measure(prompts, batchSize, warmup) {
      const student = await loadStudent(folder, { ...options, maxNewTokens: newTokens, batchSize });
      const promptMs: number[] = [];
      const generationMs: number[] = [];
      const outputs: string[] = [];
      try {
        for (const [index, batch] of batchesOf(prompts, batchSize).entries()) {
          let started = performance.now();
          await student.generateIds(batch, 1);
          const first = performance.now() - started;
          started = performance.now();
          const ids = await student.generateIds(batch, newTokens);
          const whole = performance.now() - started;
          if (index < warmup) continue;
          promptMs.push(first);
          generationMs.push(whole);
          outputs.push(...ids.map((row) => JSON.stringify(row)));
        }
      } finally {
        await student.close();
      }
      return [{ promptMs, generationMs, outputs }];
    },
  };
}

/** transformers.js `pipeline('text-generation')` on the same folder, offline, with the same threads. */
function transformersJsRuntime(folder: string, threads: number, newTokens: number): Runtime {
  return {
    names: ['transformers.js fp32 (pipeline text-generation)'],
    async measure(prompts, batchSize, warmup) {
      const { env, pipeline } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = '/';
      // The same session options as loadStudent's (its onnxruntime-node default would take every core and spin).
      const generator = await pipeline('text-generation', folder, {
        dtype: 'fp32',
        session_options: transformersJsSessionOptions(threads),
      });
      const promptMs: number[] = [];
      const generationMs: number[] = [];
      const outputs: string[] = [];
      // A batch goes to the pipeline as a list: it pads on the left, as loadStudent and PyTorch do.
      const generate = (batch: readonly string[], tokens: number) =>
        generator([...batch], {
          max_new_tokens: tokens,
          do_sample: false,
          num_beams: 1,
          add_special_tokens: true,
          return_full_text: false,
        });
      // The pipeline answers text; the ids compared with PyTorch's come from its model's `generate`, untimed, on
      // the prompts encoded as the pipeline encodes them (left padding, truncation at the tokenizer's length).
      const generatedIds = async (batch: readonly string[]) => {
        generator.tokenizer.padding_side = 'left';
        const encoded = generator.tokenizer([...batch], { add_special_tokens: true, padding: true, truncation: true }) as {
          input_ids: { dims: number[] };
        };
        const output = (await generator.model.generate({ ...encoded, max_new_tokens: newTokens, do_sample: false, num_beams: 1 })) as {
          tolist(): bigint[][];
        };
        return output.tolist().map((row) => row.map(Number).slice(encoded.input_ids.dims.at(-1)));
      };
      try {
        for (const [index, batch] of batchesOf(prompts, batchSize).entries()) {
          let started = performance.now();
          await generate(batch, 1);
          const first = performance.now() - started;
          started = performance.now();
          await generate(batch, newTokens);
          const whole = performance.now() - started;
          if (index < warmup) continue;
          promptMs.push(first);
          generationMs.push(whole);
          outputs.push(...(await generatedIds(batch)).map((row) => JSON.stringify(row)));
        }
      } finally {
        await generator.dispose();
      }
      return [{ promptMs, generationMs, outputs }];
    },
  };
}

/** PyTorch `generate` and the hand-written KV-cache loop, interleaved in one child (`pytorch_causal_generate.py`). */
function pytorchRuntime(
  modelFolder: string,
  work: string,
  threads: number,
  newTokens: number,
  onModel: (model: CausalModelDescription) => void,
): Runtime {
  return {
    names: ['PyTorch eager generate', 'PyTorch KV-cache loop (past_key_values by hand)'],
    async measure(prompts, batchSize, warmup) {
      const promptsFile = path.join(work, 'prompts.json');
      writeFileSync(promptsFile, JSON.stringify(prompts));
      const output = await runProcess(
        pythonInterpreter,
        [
          benchPath('inference', 'pytorch_causal_generate.py'),
          '--model',
          modelFolder,
          '--prompts',
          promptsFile,
          '--threads',
          String(threads),
          '--new-tokens',
          String(newTokens),
          '--warmup',
          String(warmup),
          '--batch-size',
          String(batchSize),
        ],
        inferenceEnvironment(threads),
      );
      type Way = { prompt_ms: number[]; generation_ms: number[]; ids: number[][] };
      const measured = lastJsonLine(output) as { generate: Way; kv_loop: Way; model: CausalModelDescription };
      onModel(measured.model);
      return [measured.generate, measured.kv_loop].map((way) => ({
        promptMs: way.prompt_ms,
        generationMs: way.generation_ms,
        outputs: way.ids.map((ids) => JSON.stringify(ids)),
      }));
    },
  };
}

/** The folder the bench times: SmolLM2 from its GGUF (smoke: a tiny Llama the worker trains for two steps). */
async function studentFolder(mode: BenchMode, work: string, threads: number, newTokens: number): Promise<Record<string, unknown>> {
  const start = decoderStudentStart(mode);
  let student: Record<string, unknown> = studentBlock(readRecipe(smollm2RecipeFile));
  if (mode === 'smoke') {
    const data = path.join(work, 'train.jsonl');
    await writeTrainingData(data, 200);
    const request = {
      type: 'train',
      protocol: 1,
      request: {
        output_directory: path.join(work, 'train'),
        data: { train: data },
        student: { ...start.student, max_input_length: 64, max_target_length: 24 },
        alpha: { start: 0.5, end: 0.5 },
        metric: 'exact-match',
        seed: 42,
        resume: false,
        options: { batch_size: 4, max_steps: 2, threads, eval_every: 3, checkpoint_every: 3, log_every: 1 },
        options_schema: workerOptionsSchema,
      },
    };
    const requestFile = path.join(work, 'request.json');
    writeFileSync(requestFile, JSON.stringify(request));
    await runProcess(pythonInterpreter, [workerMainScript, '--request', requestFile], threadEnvironment(threads));
    student = { ...start.student, pretrained: path.join(work, 'train', 'best'), max_input_length: 64 };
  }
  const studentFile = path.join(work, 'student.json');
  writeFileSync(studentFile, JSON.stringify(student));
  const output = await runProcess(
    pythonInterpreter,
    [
      benchPath('students', 'smollm2_folder.py'),
      '--student',
      studentFile,
      '--output',
      path.join(work, 'model'),
      '--max-new-tokens',
      String(newTokens),
    ],
    threadEnvironment(threads),
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/**
 * Node per-token latency of the SmolLM2-135M student folder, built untrained from its GGUF by
 * `bench/students/smollm2_folder.py` and exported by the `onnx` exporter (fp32 and int8):
 * onnxruntime-node through `loadStudent` (fp32 with its defaults and with `reuseBuffers`, int8) against
 * transformers.js (`pipeline('text-generation')`, offline), PyTorch eager `generate` and a hand-written
 * PyTorch KV-cache loop (one process), all under one thread and spin policy ({@link threadPolicy}), the same e-SNLI test prompts, at batch 1, greedy, a fixed number of new tokens (the
 * end token is made unreachable in the bench's folders, so no runtime stops early). Each prompt is timed
 * generating one token (the prompt pass) and all of them; per generated token = the difference over the
 * tokens after the first. Repeats are interleaved (each repeat runs every runtime once, loading and
 * closing it, starting one runtime further each repeat) and the median over repeats is reported with its spread. Beside them: the compute floor
 * (matmul FLOPs / measured fp32 matmul peak) and the memory floor (bytes of weights / measured copy bandwidth).
 */
export async function runPretrainedInferenceBenchmark(mode: BenchMode) {
  const smoke = mode === 'smoke';
  const threads = Math.min(2, os.cpus().length);
  const newTokens = 32;
  const warmup = 2;
  const settings = {
    student: smoke ? 'a tiny random-init Llama (smoke: numbers mean nothing)' : 'SmolLM2-135M-Instruct, untrained, from its GGUF',
    source: smoke ? 'trained 2 steps by the worker' : String(studentBlock(readRecipe(smollm2RecipeFile)).pretrained),
    folder_script: 'bench/students/smollm2_folder.py',
    threads,
    thread_policy: threadPolicy(threads),
    new_tokens: newTokens,
    end_token: 'replaced by the vocabulary size (unreachable) in the bench folders, so every generation has exactly new_tokens tokens',
    prompts: smoke ? 3 : 20,
    warmup_prompts: warmup,
    repeats: 3,
    runtime_order: 'rotated: each repeat starts one runtime further, so that no runtime always runs first',
    inputs: 'e-SNLI test with the quickstart student input, as predict prompts of distill-student.json (promptText)',
    batch_size: 1,
    batched: {
      batch_size: 8,
      batches: smoke ? 1 : 3,
      warmup_batches: 1,
      what: 'the same measures on batches of 8 left-padded prompts (a step generates 8 tokens); their own prompts, the first batch warm-up',
    },
  };
  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-pretrained-inference-'));
  try {
    console.log('  building the student folder…');
    const folder = await studentFolder(mode, work, threads, newTokens);
    const modelFolder = path.join(work, 'model');
    const exported = path.join(work, 'exported');
    console.log('  exporting it to ONNX (fp32 and int8)…');
    const exportResult = await exportStudent({ checkpoint: modelFolder, output: exported, quantize: true, python: pythonInterpreter });
    const vocabulary = vocabularySize(exported);
    for (const target of [modelFolder, exported]) unreachableEndToken(target, vocabulary);
    const quickstart = readRecipe(quickstartFile);
    const studentInput = (quickstart.dataset as { options?: { student_input?: string } } | undefined)?.options?.student_input;
    const { descriptor } = readStudentFolder(exported) as CausalLmStudentFolder;
    const prompts = (await testInputs(settings.prompts + warmup, studentInput)).map((input) => promptText(descriptor, 'predict', input));

    console.log('  the fp32 matmul peak and the memory bandwidth…');
    const ceilings = await measureCeilings(threads);
    let model: CausalModelDescription | null = null;
    const base = { intraOpThreads: threads, spinning: false } as const;
    const runtimes: Runtime[] = [
      pytorchRuntime(modelFolder, work, threads, newTokens, (described) => (model = described)),
      onnxRuntime('onnxruntime-node fp32 (loadStudent defaults)', exported, base, newTokens),
      onnxRuntime('onnxruntime-node fp32, reuseBuffers', exported, { ...base, reuseBuffers: true }, newTokens),
      onnxRuntime('onnxruntime-node int8', exported, { ...base, precision: 'int8' }, newTokens),
      transformersJsRuntime(exported, threads, newTokens),
    ];
    const names = runtimes.flatMap((runtime) => runtime.names);
    // Batch 1 over the prompts, batch 8 over batches of their own; every repeat runs both, runtime after runtime.
    const batchedPrompts = (await testInputs(settings.batched.batch_size * (settings.batched.batches + 1), studentInput)).map((input) =>
      promptText(descriptor, 'predict', input),
    );
    const plans = [
      { batchSize: 1, prompts, warmup },
      { batchSize: settings.batched.batch_size, prompts: batchedPrompts, warmup: settings.batched.warmup_batches },
    ];
    const repeats = plans.map(() => new Map<string, RepeatMeasurement[]>(names.map((name) => [name, []])));
    const outputs = plans.map(() => new Map<string, string[]>());
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const [plan, { batchSize, prompts: planPrompts, warmup: planWarmup }] of plans.entries()) {
        for (const runtime of rotated(runtimes, repeat)) {
          for (const [index, measured] of (await runtime.measure(planPrompts, batchSize, planWarmup)).entries()) {
            const name = runtime.names[index]!;
            const perToken = measured.generationMs.map((whole, at) => (whole - measured.promptMs[at]!) / (newTokens - 1));
            const row = {
              prompt_pass_ms: round3(median(measured.promptMs)),
              per_token_ms: round3(median(perToken)),
              generation_ms: round3(median(measured.generationMs)),
            };
            repeats[plan]!.get(name)!.push(row);
            outputs[plan]!.set(name, measured.outputs);
            console.log(
              `    repeat ${repeat + 1}, batch ${batchSize}, ${name}: prompt pass ${row.prompt_pass_ms.toFixed(2)} ms, per step ${row.per_token_ms.toFixed(2)} ms`,
            );
          }
        }
      }
    }
    const summarise = (plan: number): RuntimeResult[] => {
      const reference = outputs[plan]!.get(names[0]!)!;
      return names.map((name) => {
        const rows = repeats[plan]!.get(name)!;
        const own = outputs[plan]!.get(name)!;
        return {
          runtime: name,
          prompt_pass_ms: spread(rows.map((row) => row.prompt_pass_ms)),
          per_token_ms: spread(rows.map((row) => row.per_token_ms)),
          generation_ms: spread(rows.map((row) => row.generation_ms)),
          repeats: rows,
          same_as_pytorch:
            name === names[0] ? null : round3(own.filter((output, index) => output === reference[index]).length / Math.max(1, own.length)),
        };
      });
    };
    const results = summarise(0);
    const batchedResults = summarise(1);
    const pytorchPerToken = results[0]!.per_token_ms.median;
    const described = model as CausalModelDescription | null;
    if (!described) throw new Error('pytorch_causal_generate.py did not describe the model');
    const transformersJs = results.find((result) => result.runtime.startsWith('transformers.js'))!;
    const batchedTransformersJs = batchedResults.find((result) => result.runtime.startsWith('transformers.js'))!;
    return {
      settings,
      results: {
        folder: { ...folder, folder: '(temporary, removed after the run)' },
        export: {
          files: exportResult.files,
          megabytes: round3(exportResult.bytes / 2 ** 20),
          quantization: exportResult.quantization ?? null,
        },
        runtimes: results,
        model: described,
        ceilings,
        floors: {
          what: 'matmul weights only (attention over the cache, embeddings and softmax left out), fp32 bytes; int8 reads about a quarter of them',
          // Matmul FLOPs: 2 per weight per token; the weights are read once per call, shared by the prompt's tokens.
          prompt_pass: floor(ceilings, 2 * described.weights_per_token * described.mean_prompt_tokens, 4 * described.weights_per_token),
          per_token: floor(ceilings, 2 * described.weights_per_token, 4 * described.weights_per_token),
        },
        per_token_speedup_over_transformers_js: Object.fromEntries(
          results.map((result) => [result.runtime, round3(transformersJs.per_token_ms.median / result.per_token_ms.median)]),
        ),
        per_token_speedup_over_pytorch: Object.fromEntries(
          results.map((result) => [result.runtime, round3(pytorchPerToken / result.per_token_ms.median)]),
        ),
        batched: {
          batch_size: settings.batched.batch_size,
          // A step generates one token per row: the floors of the batch.
          floors: {
            prompt_pass: floor(
              ceilings,
              2 * settings.batched.batch_size * described.weights_per_token * described.mean_prompt_tokens,
              4 * described.weights_per_token,
            ),
            step: floor(ceilings, 2 * settings.batched.batch_size * described.weights_per_token, 4 * described.weights_per_token),
          },
          runtimes: batchedResults,
          step_speedup_over_transformers_js: Object.fromEntries(
            batchedResults.map((result) => [
              result.runtime,
              round3(batchedTransformersJs.per_token_ms.median / result.per_token_ms.median),
            ]),
          ),
        },
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
