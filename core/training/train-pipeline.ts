import { existsSync } from 'node:fs';
import path from 'node:path';
import { createStepInstance } from '../config/create-step-instance.js';
import { loadPipeline, type LoadedPipeline } from '../config/load-pipeline.js';
import { createRootContainer, createRunContainer, pluginDependencies } from '../container/root-container.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import type { StudentSpecification } from '../plugins/kinds/trainer.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { TeacherRecord } from '../teacher/teacher-record.js';
import type { EventStream } from '../services/event-stream.js';
import type { Logger } from '../services/logger.js';
import { readTeacherRecords } from './read-teacher-records.js';
import { runTrainStage, type TrainStageResult } from './train-stage.js';

/** Options of {@link trainPipeline}. */
export interface TrainPipelineOptions {
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Receives every event of the run (`train.*`), e.g. for the progress display. */
  readonly events?: EventStream;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Start over even when a checkpoint of the same training request exists. */
  readonly restart?: boolean;
}

/** What `distill train` reports. */
export interface TrainPipelineResult extends TrainStageResult {
  readonly pipeline: string;
  readonly runDirectory: string;
  readonly metric: string;
}

/** `<output.directory>/<name>`, the run directory the teacher stage wrote to. */
export function runDirectoryOf(baseDirectory: string, outputDirectory: string, name: string): string {
  return path.resolve(baseDirectory, outputDirectory, name);
}

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
export async function trainLoadedPipeline(loaded: LoadedPipeline, input: TrainLoadedPipelineInput): Promise<TrainStageResult & { readonly metric: string }> {
  const { config } = loaded;
  const { dependencies } = input;
  const samplers = [];
  for (const step of config.samplers) samplers.push(await createStepInstance(loaded, 'sampler', step, dependencies));
  const lossWeight = await createStepInstance(loaded, 'loss-weight', config.loss, dependencies);
  const firstEvaluator = config.evaluators[0];
  const metric = firstEvaluator ? (await createStepInstance(loaded, 'evaluator', firstEvaluator, dependencies)).metric : 'exact-match';
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

/**
 * `distill train <pipeline>`: trains the pipeline's student from the teacher records in its run
 * directory (`<run>/teacher/teacher-records.jsonl`, written by `distill teach`) into `<run>/train`:
 * the chosen checkpoint in `train/best/` with its validation and test metrics, per-step metrics
 * in `train/metrics.jsonl`. Runs again continue from the last checkpoint of the same request.
 */
export async function trainPipeline(file: string, options: TrainPipelineOptions = {}): Promise<TrainPipelineResult> {
  const environment = options.environment ?? process.env;
  const loaded = await loadPipeline(file, { environment });
  const { config } = loaded;
  const runDirectory = runDirectoryOf(loaded.baseDirectory, config.output.directory ?? 'runs', config.name);
  const records = await readTeacherRecords(path.join(runDirectory, 'teacher', 'teacher-records.jsonl'), path.relative(process.cwd(), loaded.file) || loaded.file);
  const root = createRootContainer({ registry: loaded.registry, environment, logger: options.logger });
  const run = createRunContainer(root, { baseDirectory: loaded.baseDirectory, signal: options.signal ?? new AbortController().signal });
  const dependencies = pluginDependencies(run);
  const events = dependencies.events;
  const forward = options.events;
  const unsubscribe = forward ? events.subscribe(({ type, time: _time, ...fields }) => forward.emit(type, fields)) : () => undefined;
  try {
    const dataset = await createStepInstance(loaded, 'dataset', config.dataset, dependencies);
    const result = await trainLoadedPipeline(loaded, {
      records,
      dataset,
      dependencies,
      outputDirectory: path.join(runDirectory, 'train'),
      restart: options.restart,
    });
    return { ...result, pipeline: loaded.file, runDirectory };
  } finally {
    unsubscribe();
    await run.dispose();
  }
}
