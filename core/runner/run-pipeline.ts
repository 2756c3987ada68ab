import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadedEnvironmentFile } from '../config/environment-file.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { withRun, type RunScope } from '../container/run-scope.js';
import { assertNoLinks } from '../files/assert-no-links.js';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import { packagePath } from '../package-root.js';
import { reliabilityOfFile } from '../report/reliability.js';
import { writeReport, type WrittenReport } from '../report/write-report.js';
import type { RunSummary, SweepPoint } from '../report/run-summary.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { SplitRole } from '../teacher/teach-pipeline.js';
import type { EventListener } from '../services/event-stream.js';
import type { Clock } from '../services/clock.js';
import type { HttpSettings } from '../services/http-settings.js';
import type { Logger } from '../services/logger.js';
import { linkCurrentModel } from './current-model.js';
import type { RunModel } from './model-usage.js';
import { PipelineInstances } from './pipeline-instances.js';
import { pipelineToRun, type PipelineSource } from './pipeline-to-run.js';
import { pipelineStages, type PipelineRun } from './pipeline-stages.js';
import { assertRecipesUnchanged, readRecipeFiles, writeRecipeSnapshots, type RecipeFile } from './recipe-lock.js';
import { runDirectoryOf } from './run-directory.js';
import { assertPathsPresent, assertRequirementsMet, blockingRequirements, planStages } from './run-readiness.js';
import { startRunRecords, writeLockfile } from './run-records.js';
import { runStages, type RunStagesOptions, type StageOutcome, type StageOutcomes } from './run-stages.js';
import { runSummaryFromStages } from './run-summary-from-stages.js';
import type { StageName } from './stage-name.js';
import { readTestSplit } from './stages/test-split.js';
import { sweepVariants } from './sweep-grid.js';

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** The plugins and default steps a pipeline file is read against (the composition root's); a loaded pipeline keeps its own. */
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
  /** `path.to.key=value` overrides of pipeline values (`--set`), applied before validation. */
  readonly overrides?: readonly string[];
  /** The `.env` file the caller read into the environment, recorded in the resolved config. */
  readonly environmentFile?: LoadedEnvironmentFile | null;
  /** Receives every event of the run: the progress display, `--json`. */
  readonly listener?: EventListener;
  readonly logger?: Logger;
  /** The clock of the run (tests run backoff and timeouts on a faster one). */
  readonly clock?: Clock;
  /** Timeouts and retries of the teacher's requests. */
  readonly httpSettings?: HttpSettings;
  /** Aborted by Ctrl+C: the running stage checkpoints and the run stops; the next run resumes. */
  readonly signal?: AbortSignal;
  /**
   * Run although an inherited recipe file differs from the one the run folder's lockfile pins
   * (`--accept-recipe-changes`); without it such a run stops before any stage (see `assertRecipesUnchanged`).
   */
  readonly acceptRecipeChanges?: boolean;
}

/** What a run produced. */
export interface RunPipelineResult {
  readonly pipeline: string;
  readonly runDirectory: string;
  readonly stages: readonly { stage: StageName; status: StageOutcome['status']; directory: string }[];
  /** Each stage's record, output included, in order; `outcomes.of('teacher')` has the teacher's, typed. */
  readonly outcomes: StageOutcomes;
  /** The stage that stopped part way (a budget, a cancel), or null when every stage in scope finished. */
  readonly stopped: StageName | null;
  /** The stage that finished without part of its work (the teacher with tolerated failures), or null. */
  readonly partial: StageName | null;
  readonly report: WrittenReport;
  readonly summary: RunSummary;
  /** The model of the current export (`<run folder>/model`), or null when this run reached no export. */
  readonly model: RunModel | null;
}

// Callers import it from here; it lives in its own file so that `recipe-lock.ts` can use it too.
export { runDirectoryOf };

function distillVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Asks the pipeline's trainer for the versions of the packages it trains with (for the lockfile);
 * the answer comes while the stages run. The instance is created at once, so a trainer whose
 * environment is missing fails the run before any stage; a report that fails leaves the lockfile
 * without versions, with a warning.
 */
async function askTrainerPackages(
  loaded: LoadedPipeline,
  run: PipelineRun,
): Promise<{ readonly packages: Promise<Record<string, string | null>> }> {
  const { logger } = run.instances.dependencies;
  const trainer = await run.instances.of(loaded, 'trainer', loaded.config.trainer);
  const packages = (trainer.environment?.() ?? Promise.resolve({ packages: {} })).then(
    (reported) => ({ ...reported.packages }),
    (error: unknown) => {
      logger.warn(`the trainer did not report its package versions, so the lockfile records none: ${String(error)}`);
      return {};
    },
  );
  return { packages };
}

/**
 * Trains every point of the pipeline's `sweep` grid up to the trainer stage. The dataset and
 * teacher stages have the same signature for every point, so they are reused: the teacher is asked
 * once for the whole grid. Returns test accuracies grouped over seeds.
 */
async function runSweep(
  loaded: LoadedPipeline,
  runDirectory: string,
  run: PipelineRun,
  dependencies: PluginDependencies,
): Promise<SweepPoint[]> {
  const variants = sweepVariants(loaded.config, loaded.registry);
  const points = new Map<string, SweepPoint>();
  for (const [index, variant] of variants.entries()) {
    const { mode, dataFraction, rationaleRate, alpha, minConfidence, seed } = variant;
    dependencies.events.emit('sweep.point', {
      index: index + 1,
      total: variants.length,
      mode,
      data_fraction: dataFraction,
      rationale_rate: rationaleRate,
      alpha,
      min_confidence: minConfidence,
      seed,
    });
    const stages = await pipelineStages({ ...loaded, config: variant.config }, run);
    const untilTrainer = stages.slice(0, stages.findIndex((stage) => stage.name === 'trainer') + 1);
    const outcomes = await runStages(untilTrainer, { runDirectory, events: dependencies.events, signal: dependencies.signal });
    const trained = outcomes.of('trainer')!.record.output;
    const key = JSON.stringify([mode, dataFraction, rationaleRate, alpha, minConfidence]);
    const point = points.get(key) ?? { mode, dataFraction, rationaleRate, alpha, minConfidence, accuracies: [] };
    points.set(key, { ...point, accuracies: [...point.accuracies, trained.testAccuracy] });
  }
  return [...points.values()];
}

/** `stages.json`: each stage's signature, folder and what happened to it in the last run. */
function writeStagesFile(runDirectory: string, outcomes: readonly StageOutcome[]): void {
  const stages = Object.fromEntries(
    outcomes.map((outcome) => [
      outcome.stage,
      { signature: outcome.signature, directory: path.relative(runDirectory, outcome.directory), status: outcome.status },
    ]),
  );
  writeFileNoFollow(path.join(runDirectory, 'stages.json'), JSON.stringify(stages, null, 2) + '\n');
}

/**
 * Points `<run folder>/model` at the export of this run, with the first test example for the
 * command that tries it; null when the export stage was not reached.
 */
function currentModel(runDirectory: string, outcomes: StageOutcomes): RunModel | null {
  const exported = outcomes.of('export');
  if (!exported) return null;
  const dataset = outcomes.of('dataset')?.record.output;
  const directory = linkCurrentModel(runDirectory, exported.record.output.directory);
  return { directory, exported: exported.record.output.directory, example: dataset ? (readTestSplit(dataset.testFile)[0] ?? null) : null };
}

/**
 * The stages of a loaded pipeline run in a run scope, the records written (with a snapshot of each
 * inherited recipe file, `recipes`), then the report.
 */
async function runLoadedPipeline(
  loaded: LoadedPipeline,
  options: RunPipelineOptions,
  scope: RunScope,
  recipes: readonly RecipeFile[],
): Promise<RunPipelineResult> {
  const { dependencies } = scope;
  const runDirectory = runDirectoryOf(loaded);
  const run: PipelineRun = { instances: new PipelineInstances(dependencies), caches: scope.caches };
  // Before anything is created: missing data (or a missing key along with it) stops the run here, and
  // a missing key once the stored stages show that its stage would run.
  assertPathsPresent(loaded);
  const stages = await pipelineStages(loaded, run, { teacherRoles: options.teacherRoles, restartTrainer: options.restartTrainer });
  assertRequirementsMet(blockingRequirements(loaded, planStages(stages, runDirectory, options)));
  const stopRecords = startRunRecords(loaded, runDirectory, dependencies.events);
  try {
    writeRecipeSnapshots(runDirectory, recipes);
    const last = options.only ?? options.until;
    const inScope = last ? stages.slice(0, stages.findIndex((stage) => stage.name === last) + 1) : stages;
    const trainerReport = inScope.some((stage) => stage.name === 'trainer')
      ? await askTrainerPackages(loaded, run)
      : { packages: Promise.resolve({}) };
    const { only, from, until, requireStored } = options;
    const outcomes = await runStages(stages, {
      runDirectory,
      events: dependencies.events,
      signal: dependencies.signal,
      only,
      from,
      until,
      requireStored,
    });
    const stopped = outcomes.find((outcome) => outcome.status === 'stopped')?.stage ?? null;
    const partial = outcomes.find((outcome) => outcome.status === 'partial')?.stage ?? null;
    const signatures = Object.fromEntries(outcomes.map((outcome) => [outcome.stage, outcome.signature]));
    const lockedRecipes = recipes.map((recipe) => recipe.entry);
    writeLockfile(loaded, runDirectory, stages, signatures, await trainerReport.packages, distillVersion(), lockedRecipes);
    writeStagesFile(runDirectory, outcomes);
    // A sweep trains many students on one teacher stage: only on a complete one, so that all of them
    // learn from the same answers.
    const sweep = !last && stopped === null && partial === null ? await runSweep(loaded, runDirectory, run, dependencies) : [];
    const model = currentModel(runDirectory, outcomes);
    const teacherStage = outcomes.of('teacher');
    const reliability = teacherStage ? await reliabilityOfFile(path.join(teacherStage.directory, 'teacher-records.jsonl')) : null;
    const summary = { ...runSummaryFromStages(loaded, outcomes, model?.directory), sweep, reliability };
    const report = writeReport(runDirectory, summary);
    dependencies.events.emit('run.done', { report: report.html, ...(model ? { model: model.directory } : {}) });
    const stageList = outcomes.map((outcome) => ({ stage: outcome.stage, status: outcome.status, directory: outcome.directory }));
    return { pipeline: loaded.file, runDirectory, stages: stageList, outcomes, stopped, partial, report, summary, model };
  } finally {
    stopRecords();
  }
}

/**
 * `distill run`: a pipeline end to end — dataset, teacher, trainer (sampling included), export,
 * evaluation — each stage stored under its signature in the run directory and reused when nothing
 * it depends on changed; then the report. A run stopped by Ctrl+C or kill -9 continues where it
 * stopped when run again. The run's caches are closed and its processes stopped when it ends,
 * however it ends.
 *
 * @param pipeline - the path of the pipeline file (or a `file:` URL), read and validated against
 *   `options.registry` and `options.environment`; or the pipeline `loadPipeline` returned, run as it
 *   was loaded (with its own registry and `${VAR}` values). Anything else is a {@link UserError}.
 */
export async function runPipeline(pipeline: PipelineSource, options: RunPipelineOptions): Promise<RunPipelineResult> {
  const environment = options.environment ?? process.env;
  const loaded = await pipelineToRun(pipeline, {
    environment,
    registry: options.registry,
    requirements: true,
    overrides: options.overrides,
    environmentFile: options.environmentFile,
  });
  // A link inside the run folder would make the run read or write outside it.
  const runDirectory = runDirectoryOf(loaded);
  assertNoLinks(runDirectory);
  // Before any stage: stored stages made from other recipes are reused only when the user says so.
  const recipes = await readRecipeFiles(loaded.recipeSources);
  await assertRecipesUnchanged(
    loaded,
    runDirectory,
    recipes.map((recipe) => recipe.entry),
    options.acceptRecipeChanges === true,
  );
  const scope = {
    registry: loaded.registry,
    environment,
    logger: options.logger,
    clock: options.clock,
    httpSettings: options.httpSettings,
    baseDirectory: loaded.baseDirectory,
    signal: options.signal,
    listener: options.listener,
  };
  return withRun(scope, (run) => runLoadedPipeline(loaded, options, run, recipes));
}
