/**
 * The one entry point of the benchmarks (issue 7):
 *
 *   npm run bench                 quick version of every bench (minutes), writes bench/results/<bench>.json
 *   npm run bench:full            the complete grids
 *   npm run bench -- --only trainer-throughput,teacher-cost
 *   npm run bench -- --smoke      tiny settings: checks that every bench runs (numbers mean nothing)
 *   npm run bench:full -- --only student-quality --datasets esnli --fractions 0.25,1 --rates 0.33,1
 *                                 a part of a quality grid (datasets, fractions, rationale rates, seeds);
 *                                 trainings already in the mode's result file are kept, not run again
 *   npm run bench:full -- --only student-quality --jobs 2
 *                                 trainings at once (one thread each; default: one per core)
 *
 * Every figure in a result file comes from a run of the code: nothing is hard-coded. Only the quality
 * bench carries trainings over from its previous result file, and only those trained with the same
 * settings and worker code (see `student-quality-benchmark.ts`). Benches run one after another,
 * never at once, so none slows another down. Full-mode results go to `<bench>.full.json`.
 */
import os from 'node:os';
import path from 'node:path';
import { resultsDirectory } from './support/bench-paths.js';
import { loadAverage } from './support/machine-info.js';
import { renderBenchmarksMarkdown } from './render-benchmarks-markdown.js';
import type { QualityGridChoice } from './quality/student-quality-benchmark.js';
import { BenchUsageError as UsageError, type BenchContext, type BenchOutcome } from './support/bench-context.js';
import { readBenchResult, writeBenchResult, type BenchMode } from './support/result-file.js';

/** One bench: what it measures and how to run it. */
interface Bench {
  readonly name: string;
  readonly measures: string;
  run(context: BenchContext): Promise<BenchOutcome>;
}

const benches: readonly Bench[] = [
  {
    name: 'offline-students',
    measures:
      "The README's main command and the from-scratch e-SNLI recipe end to end: time per stage, the exported student's test accuracy in Node, beside the teacher's.",
    run: async (context) => (await import('./quickstart/offline-students-benchmark.js')).runOfflineStudentsBenchmark(context),
  },
  {
    name: 'teacher-cost',
    measures:
      'Prompt and completion tokens per example and dollars, zero-shot against few-shot chain-of-thought prompts, on the four dsbs datasets.',
    run: async ({ mode }) => (await import('./teacher/teacher-cost-benchmark.js')).runTeacherCostBenchmark(mode),
  },
  {
    name: 'teacher-engine',
    measures:
      'Request engine throughput and added latency against a loopback OpenAI server, cache-hit lookups per second, and memory of the teach stage over many examples.',
    run: async ({ mode }) => (await import('./teacher/teacher-engine-benchmark.js')).runTeacherEngineBenchmark(mode),
  },
  {
    name: 'teacher-batch',
    measures:
      'Batch mode resumed through kills: a 2,000-example teach against loopback OpenAI and Anthropic batch servers, killed three times (submit, poll, collect), then run to the end; examples answered, requests submitted twice, and the estimate in real time and in batch.',
    run: async ({ mode }) => (await import('./teacher/teacher-batch-benchmark.js')).runTeacherBatchBenchmark(mode),
  },
  {
    name: 'serve-fallback',
    measures:
      '`distill serve --fallback` under a bounded load on loopback: the tiny test student, a loopback OpenAI teacher for the texts below the calibrated threshold; requests/s, p50/p99 by source, errors.',
    run: async ({ mode }) => (await import('./serving/fallback-load-benchmark.js')).runFallbackLoadBenchmark(mode),
  },
  {
    name: 'trainer-throughput',
    measures:
      'The torch trainer worker against a Hugging Face Seq2SeqTrainer reference of the task-prefix loop: steps/s, tokens/s, GFLOP/s against a measured matmul peak, peak memory.',
    run: async ({ mode }) => (await import('./trainer/trainer-throughput-benchmark.js')).runTrainerThroughputBenchmark(mode),
  },
  {
    name: 'student-inference',
    measures:
      'One exported T5 student as users run it: ms per label call and per generated rationale token at batch 1 and 8, onnxruntime-node (defaults, each speed option, int8) against PyTorch generate, a hand-written PyTorch KV-cache loop and transformers.js under one thread and spin policy, beside the compute and memory floors; int8 against fp32 accuracy.',
    run: async ({ mode }) => (await import('./inference/student-inference-benchmark.js')).runStudentInferenceBenchmark(mode),
  },
  {
    name: 'student-quality',
    measures:
      'Test accuracy of from-scratch students, standard finetuning against step-by-step with the PaLM rationales, over data fractions, rationale rates and seeds.',
    run: async (context) => (await import('./quality/student-quality-benchmark.js')).runStudentQualityBenchmark(context),
  },
  {
    name: 'pretrained-quality',
    measures:
      'Test accuracy of the pretrained SmolLM2-135M student on e-SNLI and CQA through the real pipeline: standard finetuning against step-by-step with two-tasks and label-then-rationale targets, beside the teacher and the majority class.',
    run: async (context) => (await import('./quality/pretrained-quality-benchmark.js')).runPretrainedQualityBenchmark(context),
  },
  {
    name: 'pretrained-throughput',
    measures:
      'The torch trainer worker on the pretrained SmolLM2-135M student: steps/s, tokens/s and the share of the bf16 matmul peak, median of interleaved repeats, two-tasks against label-then-rationale targets.',
    run: async ({ mode }) => (await import('./trainer/pretrained-throughput-benchmark.js')).runPretrainedThroughputBenchmark(mode),
  },
  {
    name: 'pretrained-inference',
    measures:
      'Per-token latency of the exported SmolLM2-135M student at batch 1: onnxruntime-node through loadStudent (fp32, int8) against transformers.js and PyTorch eager generate, prompt pass and generated tokens apart.',
    run: async ({ mode }) => (await import('./inference/pretrained-inference-benchmark.js')).runPretrainedInferenceBenchmark(mode),
  },
];

/** The numbers of a comma-separated list, refusing anything else. */
function numberList(flag: string, value: string | undefined): number[] {
  const numbers = (value ?? '').split(',').filter(Boolean).map(Number);
  if (numbers.length === 0 || numbers.some((number) => !Number.isFinite(number)))
    throw new UsageError(`${flag} takes numbers separated by commas, got "${value ?? ''}"`);
  return numbers;
}

function parseArguments(argv: readonly string[]): {
  mode: BenchMode;
  only: Set<string> | null;
  qualityGrid: QualityGridChoice;
  jobs: number | undefined;
} {
  let mode: BenchMode = 'quick';
  let only: Set<string> | null = null;
  let jobs: number | undefined;
  const qualityGrid: { -readonly [Key in keyof QualityGridChoice]: QualityGridChoice[Key] } = {};
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--datasets') qualityGrid.datasets = (argv[++index] ?? '').split(',').filter(Boolean);
    else if (argument === '--fractions') qualityGrid.fractions = numberList(argument, argv[++index]);
    else if (argument === '--rates') qualityGrid.rates = numberList(argument, argv[++index]);
    else if (argument === '--seeds') qualityGrid.seeds = numberList(argument, argv[++index]);
    else if (argument === '--methods') qualityGrid.methods = (argv[++index] ?? '').split(',').filter(Boolean);
    else if (argument === '--recipes') qualityGrid.recipes = (argv[++index] ?? '').split(',').filter(Boolean);
    else if (argument === '--jobs') {
      const [count, ...rest] = numberList(argument, argv[++index]);
      if (rest.length > 0 || !Number.isInteger(count) || count! < 1)
        throw new UsageError(`--jobs takes one whole number ≥ 1, got "${argv[index] ?? ''}"`);
      jobs = count;
    } else if (argument === '--full') mode = 'full';
    else if (argument === '--quick') mode = 'quick';
    else if (argument === '--smoke') mode = 'smoke';
    else if (argument === '--only') only = new Set((argv[++index] ?? '').split(',').filter(Boolean));
    else if (argument.startsWith('--only=')) only = new Set(argument.slice('--only='.length).split(',').filter(Boolean));
    else
      throw new UsageError(
        `unknown argument ${argument}; use --full, --quick, --smoke, --only <bench,…>, --datasets, --fractions, --rates, --seeds, --methods, --recipes, --jobs (benches: ${benches.map((bench) => bench.name).join(', ')})`,
      );
  }
  if (only) {
    const unknown = [...only].filter((name) => !benches.some((bench) => bench.name === name));
    if (unknown.length > 0)
      throw new UsageError(`unknown bench ${unknown.join(', ')}; benches: ${benches.map((bench) => bench.name).join(', ')}`);
  }
  return { mode, only, qualityGrid, jobs };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`run-benchmarks: ${error.message}`);
    return 2;
  }
  const { mode, only, qualityGrid, jobs } = parsed;
  const [oneMinute] = os.loadavg();
  if (oneMinute! > 0.5) {
    console.warn(
      `note: load average ${oneMinute!.toFixed(2)} > 0.5: other work is running, timings will be low (the load is recorded in each result)`,
    );
  }
  // Smoke numbers mean nothing: they must never replace a measured result or reach BENCHMARKS.md,
  // and a smoke run carries nothing over, since it is there to check that every bench still runs.
  const directory = mode === 'smoke' ? path.join(os.tmpdir(), 'distill-bench-smoke') : resultsDirectory;
  let failures = 0;
  for (const bench of benches) {
    if (only && !only.has(bench.name)) continue;
    const startedAt = new Date();
    const loadAtStart = loadAverage();
    console.log(`▶ ${bench.name} (${mode})`);
    const save = ({ settings, results }: BenchOutcome) =>
      writeBenchResult(
        {
          bench: bench.name,
          measures: bench.measures,
          mode,
          started_at: startedAt.toISOString(),
          load_average_at_start: loadAtStart,
          seconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
          settings,
          results,
        },
        directory,
      );
    try {
      const file = save(
        await bench.run({
          mode,
          qualityGrid,
          jobs,
          previous: mode === 'smoke' ? null : readBenchResult(bench.name, mode, directory),
          save,
        }),
      );
      console.log(`✔ ${bench.name}: ${file} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures++;
      // A wrong flag or result file is the user's to fix and says so; anything else shows where it broke.
      console.error(`✘ ${bench.name} failed: ${error instanceof UsageError ? error.message : ((error as Error).stack ?? String(error))}`);
    }
  }
  if (mode !== 'smoke') {
    try {
      renderBenchmarksMarkdown();
      console.log('BENCHMARKS.md rendered from bench/results/');
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`✘ BENCHMARKS.md not rendered: ${error.message}`);
      failures++;
    }
  }
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
