import { existsSync } from 'node:fs';
import path from 'node:path';
import { createStepInstance } from '../config/create-step-instance.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import type { StudentSpecification } from '../plugins/kinds/trainer.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { TeacherRecord } from '../teacher/teacher-record.js';
import { runTrainStage, type TrainStageResult } from './train-stage.js';

/**
 * The student block with a local `pretrained` folder made absolute: the pipeline names it relative
 * to its own file, the worker runs elsewhere. A name that is no folder there stays as written (a hub id).
 */
export function studentWithResolvedPath(student: StudentSpecification, baseDirectory: string): StudentSpecification {
  if (!student.pretrained) return student;
  const local = path.resolve(baseDirectory, student.pretrained);
  return existsSync(local) ? { ...student, pretrained: local } : student;
}

/** What {@link trainLoadedPipeline} works from. */
export interface TrainLoadedPipelineInput {
  /** The teacher stage's records. */
  readonly records: readonly TeacherRecord[];
  /** The pipeline's dataset instance (validation and test examples the records do not hold). */
  readonly dataset: Dataset;
  /** The run's plugin dependencies: events and cancellation come from here. */
  readonly dependencies: PluginDependencies;
  readonly outputDirectory: string;
  readonly restart?: boolean;
}

/**
 * The trainer stage of a loaded pipeline, shared by `distill train` and `distill run`: creates its
 * samplers, loss weight and trainer, takes the metric of its first evaluator, and runs
 * {@link runTrainStage} over the teacher records.
 */
export async function trainLoadedPipeline(
  loaded: LoadedPipeline,
  input: TrainLoadedPipelineInput,
): Promise<TrainStageResult & { readonly metric: string }> {
  const { config } = loaded;
  const { dependencies } = input;
  const samplers = [];
  for (const step of config.samplers) samplers.push(await createStepInstance(loaded, 'sampler', step, dependencies));
  const lossWeight = await createStepInstance(loaded, 'loss-weight', config.loss, dependencies);
  // Never empty: the schema asks for one evaluator at least, and the registry's defaults fill an absent list.
  const metric = (await createStepInstance(loaded, 'evaluator', config.evaluators[0]!, dependencies)).metric;
  const trainer = await createStepInstance(loaded, 'trainer', config.trainer, dependencies);
  const result = await runTrainStage({
    records: input.records,
    dataset: input.dataset,
    datasetStep: config.dataset,
    samplers,
    trainer,
    trainerStep: config.trainer,
    student: studentWithResolvedPath(config.student, loaded.baseDirectory),
    alpha: lossWeight.schedule(),
    metric,
    seed: config.seed,
    outputDirectory: input.outputDirectory,
    events: dependencies.events,
    signal: dependencies.signal,
    restart: input.restart,
  });
  return { ...result, metric };
}
