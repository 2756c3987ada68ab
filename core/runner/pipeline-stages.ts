import type { LoadedPipeline } from '../config/load-pipeline.js';
import type { SplitRole } from '../teacher/teach-pipeline.js';
import type { TeacherCaches } from '../teacher/teacher-caches.js';
import type { PipelineInstances } from './pipeline-instances.js';
import type { AnyStageDefinition } from './stage-definition.js';
import { datasetStage } from './stages/dataset-stage.js';
import { evaluateStage } from './stages/evaluate-stage.js';
import { exportStage } from './stages/export-stage.js';
import type { PipelineContext } from './stages/pipeline-context.js';
import { teacherStage } from './stages/teacher-stage.js';
import { trainerStage } from './stages/trainer-stage.js';

/** Options of {@link pipelineStages}. */
export interface PipelineStagesOptions {
  /** Roles the teacher labels (default: train); more roles make a teacher stage of their own. */
  readonly teacherRoles?: readonly SplitRole[];
  /** Train from scratch even where the trainer stage's folder holds checkpoints of the same request. */
  readonly restartTrainer?: boolean;
}

/** The run services the stages use. */
export interface PipelineRun {
  readonly instances: PipelineInstances;
  readonly caches: TeacherCaches;
}

/**
 * The stages of one pipeline, in order, with the inputs their signatures are computed from: dataset,
 * teacher, trainer, and export and evaluate when the pipeline exports. One file per stage under
 * `stages/`; the plugin instances come from the run, each made once.
 */
export async function pipelineStages(
  loaded: LoadedPipeline,
  run: PipelineRun,
  options: PipelineStagesOptions = {},
): Promise<AnyStageDefinition[]> {
  const evaluators = await run.instances.all(loaded, 'evaluator', loaded.config.evaluators);
  const context: PipelineContext = {
    loaded,
    instances: run.instances,
    caches: run.caches,
    teacherRoles: options.teacherRoles ?? ['train'],
    restartTrainer: options.restartTrainer ?? false,
    // Never empty: the schema asks for one evaluator at least, and the registry's defaults fill an absent list.
    metric: evaluators[0]!.metric,
  };
  const stages: AnyStageDefinition[] = [await datasetStage(context), await teacherStage(context), trainerStage(context)];
  if (loaded.config.export) stages.push(exportStage(context, loaded.config.export), await evaluateStage(context));
  return stages;
}
