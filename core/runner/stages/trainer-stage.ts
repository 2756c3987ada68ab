import { existsSync } from 'node:fs';
import path from 'node:path';
import type { StudentSpecification } from '../../plugins/kinds/trainer.js';
import { readTeacherRecords } from '../../training/read-teacher-records.js';
import { runTrainStage } from '../../training/train-stage.js';
import { stageDirectory } from '../run-stages.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import type { TrainerStageOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { readTestSplit } from './test-split.js';

/** The prefix of a `pretrained` file inside an installed Python package, which the worker resolves. */
const packagePrefix = 'package:';

/**
 * The student block with a local `pretrained` folder or GGUF file made absolute: the pipeline names it
 * relative to its own file, the worker runs elsewhere. A `*.gguf` path is resolved even when it does not
 * exist, so that the worker's error names the file it looked for. `package:` references and names that
 * are nothing here (hub ids) stay as written.
 */
export function studentWithResolvedPath(student: StudentSpecification, baseDirectory: string): StudentSpecification {
  if (!student.pretrained || student.pretrained.startsWith(packagePrefix)) return student;
  const local = path.resolve(baseDirectory, student.pretrained);
  const isGguf = student.pretrained.toLowerCase().endsWith('.gguf');
  return isGguf || existsSync(local) ? { ...student, pretrained: local } : student;
}

/** Trains from the teacher stage's records and the dataset stage's test split. */
async function train(context: PipelineContext, stage: StageContext): Promise<TrainerStageOutput> {
  const { loaded, instances, metric } = context;
  const { config } = loaded;
  const { teacher, dataset: datasetRecord } = stage.upstream;
  const teacherFolder = teacher ? stageDirectory(stage.runDirectory, 'teacher', teacher.signature) : '';
  const records = await readTeacherRecords(path.join(teacherFolder, 'teacher-records.jsonl'), loaded.file);
  const [dataset, samplers, lossWeight, trainer] = await Promise.all([
    instances.of(loaded, 'dataset', config.dataset),
    instances.all(loaded, 'sampler', config.samplers),
    instances.of(loaded, 'loss-weight', config.loss),
    instances.of(loaded, 'trainer', config.trainer),
  ]);
  const result = await runTrainStage({
    records,
    dataset,
    test: datasetRecord ? readTestSplit(datasetRecord.output.testFile) : [],
    datasetStep: config.dataset,
    samplers,
    trainer,
    trainerStep: config.trainer,
    student: studentWithResolvedPath(config.student, loaded.baseDirectory),
    alpha: lossWeight.schedule(),
    exampleWeight: lossWeight.exampleWeight?.bind(lossWeight),
    metric,
    seed: config.seed,
    outputDirectory: stage.stageDirectory,
    events: stage.events,
    signal: stage.signal,
    restart: context.restartTrainer,
  });
  if (result.status === 'cancelled') throw stage.signal.reason ?? new Error('training was cancelled');
  return { ...result, metric };
}

/** The trainer stage: samples the teacher's records, trains the student, picks the checkpoint on validation, scores it on test. */
export function trainerStage(context: PipelineContext): StageDefinition<'trainer'> {
  const { loaded, metric } = context;
  const { config } = loaded;
  return {
    name: 'trainer',
    inputs: {
      samplers: config.samplers.map((step) => stepIdentity(loaded, 'sampler', step)),
      loss: stepIdentity(loaded, 'loss-weight', config.loss),
      trainer: stepIdentity(loaded, 'trainer', config.trainer),
      student: config.student,
      metric,
      seed: config.seed,
    },
    run: (stage) => train(context, stage),
  };
}
