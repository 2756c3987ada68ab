import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadStudent } from '../../core/inference/load-student.js';
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
import { runProcess, threadEnvironment } from './student-inference-benchmark.js';

/** What one runtime measured in one repeat: medians over the prompts. */
interface RepeatMeasurement {
  /** One call generating one token: the prompt pass and one argmax (plus the call's own overhead). */
  readonly prompt_pass_ms: number;
  /** (whole generation − prompt pass) / (new tokens − 1): one generated token with the cache. */
  readonly per_token_ms: number;
  /** The whole generation of the fixed number of new tokens. */
  readonly generation_ms: number;
}

/** A median and the spread of the repeats around it. */
interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
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

/** A runtime as the bench drives it: loaded once per repeat, then timed prompt by prompt. */
interface Runtime {
  readonly name: string;
  /** Times every prompt (the first `warmup` not reported); returns per-prompt times and the generated ids (JSON). */
  measure(prompts: readonly string[]): Promise<{ promptMs: number[]; generationMs: number[]; outputs: string[] }>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function spread(values: readonly number[]): Spread {
  return { median: round3(median(values)), min: round3(Math.min(...values)), max: round3(Math.max(...values)) };
}

/**
 * Sets the end token of a folder's JSON files to an id no model output can take (the vocabulary
 * size), so that every runtime generates exactly the fixed number of tokens: per-token latency is then
 * measured over the same count everywhere, whatever the untrained model would have stopped at.
 */
function unreachableEndToken(folder: string, id: number): void {
  for (const name of ['distill-student.json', 'generation_config.json', 'config.json']) {
    const file = path.join(folder, name);
    if (!existsSync(file)) continue;
    const content = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (!('eos_token_id' in content)) continue;
    writeFileSync(file, JSON.stringify({ ...content, eos_token_id: id }, null, 2));
  }
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

/** onnxruntime-node through `loadStudent`: `generateIds` of one prompt, one token, then all of them. */
function onnxRuntime(folder: string, precision: 'fp32' | 'int8', threads: number, newTokens: number, warmup: number): Runtime {
  return {
    name: `onnxruntime-node ${precision} (loadStudent)`,
    async measure(prompts) {
      const student = await loadStudent(folder, { precision, intraOpThreads: threads, maxNewTokens: newTokens, batchSize: 1 });
      const promptMs: number[] = [];
      const generationMs: number[] = [];
      const outputs: string[] = [];
      try {
        for (const [index, prompt] of prompts.entries()) {
          let started = performance.now();
          await student.generateIds([prompt], 1);
          const first = performance.now() - started;
          started = performance.now();
          const [ids] = await student.generateIds([prompt], newTokens);
          const whole = performance.now() - started;
          if (index < warmup) continue;
          promptMs.push(first);
          generationMs.push(whole);
          outputs.push(JSON.stringify(ids));
        }
      } finally {
        await student.close();
      }
      return { promptMs, generationMs, outputs };
    },
  };
}

/** transformers.js `pipeline('text-generation')` on the same folder, offline, with the same threads. */
function transformersJsRuntime(folder: string, threads: number, newTokens: number, warmup: number): Runtime {
  return {
    name: 'transformers.js fp32 (pipeline text-generation)',
    async measure(prompts) {
      const { env, pipeline } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = '/';
      // The same thread count as the other runtimes (its onnxruntime-node default would take every core).
      const generator = await pipeline('text-generation', folder, {
        dtype: 'fp32',
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
      });
      const promptMs: number[] = [];
      const generationMs: number[] = [];
      const outputs: string[] = [];
      const generate = (prompt: string, tokens: number) =>
        generator(prompt, { max_new_tokens: tokens, do_sample: false, num_beams: 1, add_special_tokens: true, return_full_text: false });
      // The pipeline answers text; the ids compared with PyTorch's come from its model's `generate`, untimed.
      const generatedIds = async (prompt: string) => {
        const encoded = generator.tokenizer(prompt, { add_special_tokens: true }) as { input_ids: { dims: number[] } };
        const output = (await generator.model.generate({ ...encoded, max_new_tokens: newTokens, do_sample: false, num_beams: 1 })) as {
          tolist(): bigint[][];
        };
        return output.tolist()[0]!.map(Number).slice(encoded.input_ids.dims.at(-1));
      };
      try {
        for (const [index, prompt] of prompts.entries()) {
          let started = performance.now();
          await generate(prompt, 1);
          const first = performance.now() - started;
          started = performance.now();
          await generate(prompt, newTokens);
          const whole = performance.now() - started;
          if (index < warmup) continue;
          promptMs.push(first);
          generationMs.push(whole);
          outputs.push(JSON.stringify(await generatedIds(prompt)));
        }
      } finally {
        await generator.dispose();
      }
      return { promptMs, generationMs, outputs };
    },
  };
}

/** PyTorch eager `generate` in its own process (`pytorch_causal_generate.py`), same threads. */
function pytorchRuntime(modelFolder: string, work: string, threads: number, newTokens: number, warmup: number): Runtime {
  return {
    name: 'PyTorch eager generate',
    async measure(prompts) {
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
        ],
        threadEnvironment(threads),
      );
      const measured = JSON.parse(output.trim().split('\n').at(-1)!) as {
        prompt_ms: number[];
        generation_ms: number[];
        ids: number[][];
      };
      return {
        promptMs: measured.prompt_ms,
        generationMs: measured.generation_ms,
        outputs: measured.ids.map((ids) => JSON.stringify(ids)),
      };
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
 * onnxruntime-node through `loadStudent` (fp32, int8) against transformers.js
 * (`pipeline('text-generation')`, offline) and PyTorch eager `generate` (its own process), all on the
 * same threads, the same e-SNLI test prompts, at batch 1, greedy, a fixed number of new tokens (the
 * end token is made unreachable in the bench's folders, so no runtime stops early). Each prompt is timed
 * generating one token (the prompt pass) and all of them; per generated token = the difference over the
 * tokens after the first. Repeats are interleaved (each repeat runs every runtime once, loading and
 * closing it) and the median over repeats is reported with its spread.
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
    new_tokens: newTokens,
    end_token: 'replaced by the vocabulary size (unreachable) in the bench folders, so every generation has exactly new_tokens tokens',
    prompts: smoke ? 3 : 20,
    warmup_prompts: warmup,
    repeats: 3,
    inputs: 'e-SNLI test with the quickstart student input, as predict prompts of distill-student.json (promptText)',
    batch_size: 1,
  };
  const work = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-pretrained-inference-'));
  try {
    console.log('  building the student folder…');
    const folder = await studentFolder(mode, work, threads, newTokens);
    const modelFolder = path.join(work, 'model');
    const exported = path.join(work, 'exported');
    console.log('  exporting it to ONNX (fp32 and int8)…');
    const exportResult = await exportStudent({ checkpoint: modelFolder, output: exported, quantize: true, python: pythonInterpreter });
    const vocabulary = (JSON.parse(readFileSync(path.join(exported, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
    for (const target of [modelFolder, exported]) unreachableEndToken(target, vocabulary);
    const quickstart = readRecipe(quickstartFile);
    const studentInput = (quickstart.dataset as { options?: { student_input?: string } } | undefined)?.options?.student_input;
    const { descriptor } = readStudentFolder(exported) as CausalLmStudentFolder;
    const prompts = (await testInputs(settings.prompts + warmup, studentInput)).map((input) => promptText(descriptor, 'predict', input));

    const runtimes: Runtime[] = [
      pytorchRuntime(modelFolder, work, threads, newTokens, warmup),
      onnxRuntime(exported, 'fp32', threads, newTokens, warmup),
      onnxRuntime(exported, 'int8', threads, newTokens, warmup),
      transformersJsRuntime(exported, threads, newTokens, warmup),
    ];
    const repeats = new Map<string, RepeatMeasurement[]>(runtimes.map((runtime) => [runtime.name, []]));
    const outputs = new Map<string, string[]>();
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (const runtime of runtimes) {
        const measured = await runtime.measure(prompts);
        const perToken = measured.generationMs.map((whole, index) => (whole - measured.promptMs[index]!) / (newTokens - 1));
        const row = {
          prompt_pass_ms: round3(median(measured.promptMs)),
          per_token_ms: round3(median(perToken)),
          generation_ms: round3(median(measured.generationMs)),
        };
        repeats.get(runtime.name)!.push(row);
        outputs.set(runtime.name, measured.outputs);
        console.log(
          `    repeat ${repeat + 1}, ${runtime.name}: prompt pass ${row.prompt_pass_ms.toFixed(2)} ms, per token ${row.per_token_ms.toFixed(2)} ms`,
        );
      }
    }
    const reference = outputs.get(runtimes[0]!.name)!;
    const sameAsPytorch = (runtime: Runtime): number | null => {
      if (runtime === runtimes[0]) return null;
      const own = outputs.get(runtime.name)!;
      return round3(own.filter((output, index) => output === reference[index]).length / Math.max(1, own.length));
    };
    const results: RuntimeResult[] = runtimes.map((runtime) => {
      const rows = repeats.get(runtime.name)!;
      return {
        runtime: runtime.name,
        prompt_pass_ms: spread(rows.map((row) => row.prompt_pass_ms)),
        per_token_ms: spread(rows.map((row) => row.per_token_ms)),
        generation_ms: spread(rows.map((row) => row.generation_ms)),
        repeats: rows,
        same_as_pytorch: sameAsPytorch(runtime),
      };
    });
    const pytorchPerToken = results[0]!.per_token_ms.median;
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
        per_token_speedup_over_pytorch: Object.fromEntries(
          results.map((result) => [result.runtime, round3(pytorchPerToken / result.per_token_ms.median)]),
        ),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
