import type { LoadedEnvironmentFile } from '../config/environment-file.js';
import { asProblem, loadPipeline, type LoadedPipeline } from '../config/load-pipeline.js';
import { withRun } from '../container/run-scope.js';
import type { Problem } from '../errors/problem.js';
import type { TeacherDescriptor } from '../plugins/kinds/teacher.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { estimatePipeline, type Estimate } from '../teacher/estimate.js';
import { PipelineInstances } from './pipeline-instances.js';
import { pipelineStages } from './pipeline-stages.js';
import { readRecipeFiles, recipeChangeProblems } from './recipe-lock.js';
import { assertPathsPresent, blockingRequirements, planStages, type PlannedStage, type StageSelection } from './run-readiness.js';
import { runDirectoryOf } from './run-pipeline.js';

/** What `distill run --dry-run` reports: the plan and its cost, with nothing spent. */
export interface DryRun {
  readonly pipeline: string;
  readonly runDirectory: string;
  /** Each stage, whether its output is stored, and whether a run now would compute it. */
  readonly stages: readonly PlannedStage[];
  readonly estimate: Estimate;
  /**
   * What a real run would stop at before it starts (an unset API key for a teacher that would be
   * asked), each with its fix; empty when the run could start.
   */
  readonly problems: readonly Problem[];
  /** `teacher.mode`: with `batch`, the teacher's cost is the estimate's `batch_cost_usd`. */
  readonly teacherMode: 'realtime' | 'batch';
  /**
   * What users must know before the run sends data: with `teacher.mode: batch`, the teacher plugin's
   * `batchNotice` (Anthropic: batches are not eligible for zero data retention). Empty when none.
   */
  readonly notices: readonly string[];
}

/** Options of {@link dryRunPipeline}: those of the run it previews. */
export interface DryRunOptions extends StageSelection {
  readonly overrides?: readonly string[];
  readonly environmentFile?: LoadedEnvironmentFile | null;
  /** What `RunPipelineOptions.acceptRecipeChanges` says: changed recipes are then no reason to stop. */
  readonly acceptRecipeChanges?: boolean;
}

/** The teacher plugin's notice for batch mode, when the pipeline uses batch mode and the plugin has one. */
function batchNotices(loaded: LoadedPipeline): string[] {
  const { teacher } = loaded.config;
  if (teacher.mode !== 'batch') return [];
  const descriptor: TeacherDescriptor = loaded.registry.get('teacher', teacher.use);
  return descriptor.batchNotice ? [`teacher/${descriptor.id} in batch mode: ${descriptor.batchNotice}`] : [];
}

/**
 * Validates the pipeline, checks what its plugins need from outside it (API keys, data folders),
 * works out which stages a run would reuse or compute (and whether it would stop at recipes changed
 * since the run folder's lockfile), and estimates the teacher's tokens and dollars. Calls no
 * teacher, trains nothing and writes nothing. Missing data throws one error that lists every unmet
 * requirement (the key too), since nothing can be planned without the data; an unset key alone, or
 * a changed recipe, comes back in `problems`, beside the plan and the estimate.
 */
export async function dryRunPipeline(
  file: string,
  registry: PluginRegistry,
  environment: Readonly<Record<string, string | undefined>> = process.env,
  options: DryRunOptions = {},
): Promise<DryRun> {
  const loaded = await loadPipeline(file, {
    environment,
    registry,
    requirements: true,
    overrides: options.overrides,
    environmentFile: options.environmentFile,
  });
  assertPathsPresent(loaded);
  const runDirectory = runDirectoryOf(loaded);
  const recipes = (await readRecipeFiles(loaded.recipeSources)).map((recipe) => recipe.entry);
  const recipeProblems = options.acceptRecipeChanges ? [] : await recipeChangeProblems(loaded, runDirectory, recipes);
  return withRun({ registry: loaded.registry, environment, baseDirectory: loaded.baseDirectory }, async ({ dependencies, caches }) => {
    const stages = await pipelineStages(loaded, { instances: new PipelineInstances(dependencies), caches });
    const plan = planStages(stages, runDirectory, options);
    return {
      pipeline: loaded.file,
      runDirectory,
      stages: plan,
      estimate: await estimatePipeline(loaded, { environment }),
      problems: [...recipeProblems, ...blockingRequirements(loaded, plan).map(asProblem)],
      teacherMode: loaded.config.teacher.mode,
      notices: batchNotices(loaded),
    };
  });
}
