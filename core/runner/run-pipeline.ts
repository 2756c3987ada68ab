import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPipeline, type LoadedPipeline } from '../config/load-pipeline.js';
import { createRootContainer, createRunContainer, pluginDependencies } from '../container/root-container.js';
import { assertNoLinks } from '../files/assert-no-links.js';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import { packagePath } from '../package-root.js';
import { findPythonInterpreter } from '../python/python-interpreter.js';
import { writeReport, type WrittenReport } from '../report/write-report.js';
import type { RunSummary, SweepPoint } from '../report/run-summary.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { TrainStageResult } from '../training/train-stage.js';
import type { SplitRole } from '../teacher/teach-pipeline.js';
import type { EventListener } from '../services/event-stream.js';
import type { Logger } from '../services/logger.js';
import { pipelineStages } from './pipeline-stages.js';
import { startRunRecords, writeLockfile } from './run-records.js';
import { runStages, type RunStagesOptions, type StageOutcome } from './run-stages.js';
import { runSummaryFromStages } from './run-summary-from-stages.js';
import type { StageName } from './stage-name.js';
import { sweepVariants } from './sweep-grid.js';
import { workerPackageVersions } from './worker-versions.js';

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** The plugins and default steps the pipeline is read against (the composition root's). */
  readonly registry: PluginRegistry;
  readonly only?: StageName;
  readonly from?: StageName;
  /** Stop after this stage (`distill teach` stops after the teacher). */
  readonly until?: StageName;
  /** Stages that must be stored already, with the fix to print when one is not (`distill train`). */
  readonly requireStored?: RunStagesOptions['requireStored'];
  /** Roles the teacher labels (default: train). */
  readonly teacherRoles?: readonly SplitRole[];
  /** Train from scratch rather than continue from the trainer stage's checkpoints (`distill train --restart`). */
  readonly restartTrainer?: boolean;
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Receives every event of the run: the progress display, `--json`. */
  readonly listener?: EventListener;
  readonly logger?: Logger;
  /** Aborted by Ctrl+C: the running stage checkpoints and the run stops; the next run resumes. */
  readonly signal?: AbortSignal;
}

/** What a run produced. */
export interface RunPipelineResult {
  readonly pipeline: string;
  readonly runDirectory: string;
  readonly stages: readonly { stage: StageName; status: StageOutcome['status']; directory: string }[];
  /** Each stage's record, output included, in order. */
  readonly outcomes: readonly StageOutcome[];
  /** The stage that stopped part way (a budget, a cancel), or null when every stage in scope finished. */
  readonly stopped: StageName | null;
  /** The stage that finished without part of its work (the teacher with tolerated failures), or null. */
  readonly partial: StageName | null;
  readonly report: WrittenReport;
  readonly summary: RunSummary;
}

/** `<output.directory>/<name>` of a loaded pipeline. */
export function runDirectoryOf(loaded: LoadedPipeline): string {
  return path.resolve(loaded.baseDirectory, loaded.config.output.directory, loaded.config.name);
}

function distillVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Trains every point of the pipeline's `sweep` grid up to the trainer stage. The dataset and
 * teacher stages have the same signature for every point, so they are reused: the teacher is asked
 * once for the whole grid. Returns test accuracies grouped over seeds.
 */
async function runSweep(
  loaded: LoadedPipeline,
  runDirectory: string,
  dependencies: PluginDependencies,
  signal: AbortSignal,
): Promise<SweepPoint[]> {
  const variants = sweepVariants(loaded.config, loaded.registry);
  const points = new Map<string, { mode: string; dataFraction: number; rationaleRate: number; alpha: number; accuracies: number[] }>();
  for (const [index, variant] of variants.entries()) {
    dependencies.events.emit('sweep.point', {
      index: index + 1,
      total: variants.length,
      mode: variant.mode,
      data_fraction: variant.dataFraction,
      rationale_rate: variant.rationaleRate,
      alpha: variant.alpha,
      seed: variant.seed,
    });
    const stages = await pipelineStages({ ...loaded, config: variant.config }, dependencies);
    const untilTrainer = stages.slice(0, stages.findIndex((stage) => stage.name === 'trainer') + 1);
    const outcomes = await runStages(untilTrainer, { runDirectory, events: dependencies.events, signal });
    const trained = outcomes.at(-1)!.record.output as TrainStageResult;
    const key = JSON.stringify([variant.mode, variant.dataFraction, variant.rationaleRate, variant.alpha]);
    const point = points.get(key) ?? {
      mode: variant.mode,
      dataFraction: variant.dataFraction,
      rationaleRate: variant.rationaleRate,
      alpha: variant.alpha,
      accuracies: [],
    };
    point.accuracies.push(trained.testAccuracy);
    points.set(key, point);
  }
  return [...points.values()];
}

/**
 * `distill run`: a pipeline end to end — dataset, teacher, trainer (sampling included), export,
 * evaluation — each stage stored under its signature in the run directory and reused when nothing
 * it depends on changed; then the report. A run stopped by Ctrl+C or kill -9 continues where it
 * stopped when run again.
 */
export async function runPipeline(file: string, options: RunPipelineOptions): Promise<RunPipelineResult> {
  const environment = options.environment ?? process.env;
  const loaded = await loadPipeline(file, { environment, registry: options.registry });
  const runDirectory = runDirectoryOf(loaded);
  // A link inside the run folder would make the run read or write outside it.
  assertNoLinks(runDirectory);
  const root = createRootContainer({ registry: loaded.registry, environment, logger: options.logger });
  const signal = options.signal ?? new AbortController().signal;
  const run = createRunContainer(root, { baseDirectory: loaded.baseDirectory, signal });
  const dependencies = pluginDependencies(run);
  const stopListening = options.listener ? dependencies.events.subscribe(options.listener) : () => undefined;
  const stopRecords = startRunRecords(loaded, runDirectory, dependencies.events);
  try {
    const stages = await pipelineStages(loaded, dependencies, {
      teacherRoles: options.teacherRoles,
      restartTrainer: options.restartTrainer,
    });
    const last = options.only ?? options.until;
    const inScope = last ? stages.slice(0, stages.findIndex((stage) => stage.name === last) + 1) : stages;
    const trainerPython = typeof loaded.config.trainer.options.python === 'string' ? loaded.config.trainer.options.python : undefined;
    const worker = inScope.some((stage) => stage.name === 'trainer')
      ? workerPackageVersions(findPythonInterpreter(trainerPython, environment))
      : {};
    const outcomes = await runStages(stages, {
      runDirectory,
      events: dependencies.events,
      signal,
      only: options.only,
      from: options.from,
      until: options.until,
      requireStored: options.requireStored,
    });
    const stopped = outcomes.find((outcome) => outcome.status === 'stopped')?.stage ?? null;
    const partial = outcomes.find((outcome) => outcome.status === 'partial')?.stage ?? null;
    writeLockfile(
      loaded,
      runDirectory,
      stages,
      Object.fromEntries(outcomes.map((outcome) => [outcome.stage, outcome.signature])),
      worker,
      distillVersion(),
    );
    writeFileNoFollow(
      path.join(runDirectory, 'stages.json'),
      JSON.stringify(
        Object.fromEntries(
          outcomes.map((outcome) => [
            outcome.stage,
            { signature: outcome.signature, directory: path.relative(runDirectory, outcome.directory), status: outcome.status },
          ]),
        ),
        null,
        2,
      ) + '\n',
    );
    // A sweep trains many students on one teacher stage: only on a complete one, so that all of them
    // learn from the same answers.
    const wholePipeline = !last && stopped === null && partial === null;
    const sweep = wholePipeline ? await runSweep(loaded, runDirectory, dependencies, signal) : [];
    const summary = { ...runSummaryFromStages(loaded, outcomes), sweep };
    const report = writeReport(runDirectory, summary);
    dependencies.events.emit('run.done', { report: report.html });
    return {
      pipeline: loaded.file,
      runDirectory,
      stages: outcomes.map((outcome) => ({ stage: outcome.stage, status: outcome.status, directory: outcome.directory })),
      outcomes,
      stopped,
      partial,
      report,
      summary,
    };
  } finally {
    stopRecords();
    stopListening();
    await run.dispose();
  }
}
