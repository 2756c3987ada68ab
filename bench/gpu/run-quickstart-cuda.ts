/**
 * The quickstart on a CUDA GPU: runs `pipelines/quickstart.yaml` as `bench/gpu/quickstart-cuda.yaml`
 * adapts it (device cuda, bf16 true, batch 64) from a fresh run folder, and writes the time of each
 * stage and the accuracies to `bench/gpu/results/quickstart-cuda.full.json`:
 *
 *   npm run --silent build && node dist/bench/gpu/run-quickstart-cuda.js [--runs DIR] [--results DIR]
 *
 * `--runs`: where the run folder goes (default: a fresh temporary folder, so that no stage is reused);
 * `--results`: where the result file goes. Where the worker's Python (`$DISTILL_PYTHON`, else `.venv`)
 * sees no CUDA device, or one without bf16, it refuses before any stage, with exit status 2. A prepared
 * measurement for a GPU machine, never a test: nothing asserts a time, and no test runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatUserError } from '../../core/errors/format-user-error.js';
import { UserError } from '../../core/errors/user-error.js';
import { runPipeline } from '../../core/runner/run-pipeline.js';
import type { DistillEvent } from '../../core/services/event-stream.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { BenchUsageError } from '../support/bench-context.js';
import { benchPath, pythonInterpreter } from '../support/bench-paths.js';
import { loadAverage } from '../support/machine-info.js';
import { writeBenchResult } from '../support/result-file.js';

/** What the worker's torch says about the GPU. */
interface CudaProbe {
  readonly torch: string;
  readonly cuda: string | null;
  readonly available: boolean;
  readonly devices: number;
  readonly name: string | null;
  readonly bf16: boolean;
}

const probeProgram = [
  'import json, torch',
  'available = torch.cuda.is_available()',
  'print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "available": available,',
  '  "devices": torch.cuda.device_count() if available else 0,',
  '  "name": torch.cuda.get_device_name(0) if available else None,',
  '  "bf16": bool(available and torch.cuda.is_bf16_supported())}))',
].join('\n');

/** The GPU the worker will train on; a {@link BenchUsageError} that says what is missing where there is none. */
function probeCuda(): CudaProbe {
  const probe = spawnSync(pythonInterpreter, ['-c', probeProgram], { encoding: 'utf8', timeout: 300_000 });
  if (probe.status !== 0) {
    throw new BenchUsageError(
      `cannot ask ${pythonInterpreter} about CUDA (exit status ${probe.status}): ${probe.stderr.trim().split('\n').at(-1) ?? ''}; run npm run setup:python or set DISTILL_PYTHON`,
    );
  }
  const found = JSON.parse(probe.stdout.trim().split('\n').at(-1)!) as CudaProbe;
  if (!found.available) {
    throw new BenchUsageError(
      `no CUDA device: torch ${found.torch} in ${pythonInterpreter} (CUDA build: ${found.cuda ?? 'none'}) sees no GPU. ` +
        'This bench runs the quickstart on a CUDA GPU only; on a CPU run `distill run pipelines/quickstart.yaml`. ' +
        'On a GPU machine, install a CUDA build of torch into the worker environment or point DISTILL_PYTHON at one.',
    );
  }
  if (!found.bf16) {
    throw new BenchUsageError(`the GPU ${found.name ?? '?'} has no bf16 support, which this bench's \`bf16: true\` needs`);
  }
  return found;
}

/** The value after `flag` on the command line, or undefined. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const index = argv.indexOf(flag);
  if (index < 0) return undefined;
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new BenchUsageError(`${flag} takes a folder`);
  return path.resolve(value);
}

/** Seconds between two ISO times of a stage record. */
function secondsBetween(startedAt: string, finishedAt: string): number {
  return (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
}

async function main(argv: readonly string[]): Promise<void> {
  const unknown = argv.filter((argument) => argument.startsWith('--') && !['--runs', '--results'].includes(argument));
  if (unknown.length > 0) throw new BenchUsageError(`unknown option ${unknown[0]}; options: --runs DIR, --results DIR`);
  const gpu = probeCuda();
  const runs = flagValue(argv, '--runs') ?? mkdtempSync(path.join(os.tmpdir(), 'distill-quickstart-cuda-'));
  const resultsDirectory = flagValue(argv, '--results') ?? benchPath('gpu', 'results');
  const started = new Date();
  const loadAtStart = loadAverage();
  const trainerEvents: DistillEvent[] = [];
  process.stderr.write(`quickstart on ${gpu.name} (torch ${gpu.torch}, CUDA ${gpu.cuda}); run folder under ${runs}\n`);
  const result = await runPipeline(benchPath('gpu', 'quickstart-cuda.yaml'), {
    registry: builtinRegistry(),
    environment: { ...process.env, DISTILL_GPU_RUNS: runs },
    listener: (event) => {
      if (event.type === 'train.started' || event.type === 'train.done') trainerEvents.push(event);
      if (event.type === 'stage.start' || event.type === 'stage.done') process.stderr.write(`${event.type} ${String(event.stage)}\n`);
    },
  });
  if (result.stopped !== null || result.partial !== null) {
    throw new BenchUsageError(
      `the run did not finish: stage ${result.stopped ?? result.partial} stopped part way (${result.runDirectory})`,
    );
  }
  const stages = Object.fromEntries(
    result.outcomes.map((outcome) => [
      outcome.stage,
      { status: outcome.status, seconds: secondsBetween(outcome.record.startedAt, outcome.record.finishedAt) },
    ]),
  );
  const trainer = result.outcomes.of('trainer')!.record.output;
  const evaluation = result.outcomes.of('evaluate')!.record.output;
  const trainStarted = trainerEvents.find((event) => event.type === 'train.started');
  const trainDone = trainerEvents.find((event) => event.type === 'train.done');
  const file = writeBenchResult(
    {
      bench: 'quickstart-cuda',
      measures:
        'pipelines/quickstart.yaml (SmolLM2-135M student on the e-SNLI sample) on one CUDA GPU in bf16: seconds per stage, trainer and Node test accuracy.',
      mode: 'full',
      started_at: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      load_average_at_start: loadAtStart,
      settings: { pipeline: 'bench/gpu/quickstart-cuda.yaml', gpu, run_directory: result.runDirectory },
      results: {
        stages,
        trainer: {
          device: trainStarted?.device ?? null,
          bf16: trainStarted?.bf16 ?? null,
          steps: trainer.steps,
          best_step: trainer.bestStep ?? null,
          validation_accuracy: trainer.validationAccuracy,
          test_accuracy: trainer.testAccuracy,
          // The worker's count of what it scored (a resumed stage that trained nothing has no event).
          test_examples: trainDone?.test_examples ?? null,
        },
        node_evaluation: {
          accuracy: evaluation.accuracy,
          examples: evaluation.examples,
          latency_milliseconds: evaluation.latencyMilliseconds,
        },
      },
    },
    resultsDirectory,
  );
  process.stderr.write(`wrote ${file}\n`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UserError) {
    process.stderr.write(formatUserError(error) + '\n');
    process.exitCode = 2;
  } else if (error instanceof BenchUsageError) {
    process.stderr.write(`run-quickstart-cuda: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
