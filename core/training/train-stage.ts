import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { canonicalHash } from '../canonical-json.js';
import type { DatasetStep, PluginStep } from '../config/pipeline-config.js';
import { UserError } from '../errors/user-error.js';
import { readTextFileNoFollow, writeFileNoFollow } from '../files/no-follow-files.js';
import type { Dataset } from '../plugins/kinds/dataset.js';
import type { AlphaSchedule } from '../plugins/kinds/loss-weight.js';
import type { SampleItem, Sampler } from '../plugins/kinds/sampler.js';
import type { StudentSpecification, Trainer, TrainingExample, TrainResult } from '../plugins/kinds/trainer.js';
import type { EventStream } from '../services/event-stream.js';
import type { TeacherRecord } from '../teacher/teacher-record.js';
import { holdOutValidation } from './split-roles.js';
import {
  applySamplers,
  evaluationExample,
  imputedLabelFor,
  sampleItemsFromRecords,
  summariseTrainingData,
  trainingExamplesFromItems,
  type TrainingDataSummary,
} from './training-data.js';

/** Everything the train stage works with: plugin instances and settings, no configuration loading. */
export interface TrainStageInput {
  /** The teacher stage's records (any splits). */
  readonly records: readonly TeacherRecord[];
  /** Reads validation examples the teacher records do not hold. */
  readonly dataset: Dataset;
  /** The test split with gold labels, as the dataset stage stored it. */
  readonly test: readonly { readonly id: string; readonly input: string; readonly label: string }[];
  readonly datasetStep: Pick<DatasetStep, 'splits' | 'validation_fraction' | 'limit'>;
  readonly samplers: readonly Sampler[];
  readonly trainer: Trainer;
  /** The trainer step (`use` and options): part of the resume signature. */
  readonly trainerStep: PluginStep;
  readonly student: StudentSpecification;
  readonly alpha: AlphaSchedule;
  /**
   * The loss-weight plugin's weight of each example (`LossWeight.exampleWeight`), when it has one:
   * each training example then carries it to the trainer. Absent: examples carry no weight.
   */
  readonly exampleWeight?: (item: SampleItem) => number;
  readonly metric: string;
  readonly seed: number;
  /** The trainer's folder: data, checkpoints, metrics, the chosen model. */
  readonly outputDirectory: string;
  readonly events: EventStream;
  readonly signal: AbortSignal;
  /** Start over even when a checkpoint of the same training request exists. */
  readonly restart?: boolean;
}

/** What the train stage produced. */
export interface TrainStageResult extends TrainResult {
  readonly outputDirectory: string;
  readonly data: TrainingDataSummary & { readonly validation: number; readonly test: number };
  /** Whether training continued from a checkpoint of the same request. */
  readonly resumed: boolean;
}

const signatureFile = 'request-signature.txt';

async function readEvaluationSplit(dataset: Dataset, split: string, limit: number | undefined): Promise<TrainingExample[]> {
  const examples: TrainingExample[] = [];
  for await (const example of dataset.read(split)) {
    if (limit !== undefined && examples.length >= limit) break;
    if (example.goldLabel === null) continue;
    examples.push(evaluationExample(example.id, dataset.studentInput(example), example.goldLabel));
  }
  return examples;
}

function evaluationFromRecords(records: readonly TeacherRecord[], limit: number | undefined): TrainingExample[] {
  const examples = records
    .filter((record) => record.gold_label !== null)
    .map((record) => evaluationExample(record.id, record.student_input, record.gold_label!));
  return limit === undefined ? examples : examples.slice(0, limit);
}

/**
 * The train stage: teacher records → sample items (teacher labels imputed where missing) → the
 * pipeline's samplers → training examples; validation from the validation split (or a seeded
 * hold-out of the training records), test from the dataset stage's test split, both with gold
 * labels; then the trainer. A run of the same request (same data, student, α, metric, seed and trainer options)
 * continues from its last checkpoint; a changed request starts over in the same folder.
 */
export async function runTrainStage(input: TrainStageInput): Promise<TrainStageResult> {
  const { splits, validation_fraction: validationFraction, limit } = input.datasetStep;
  const present = [...new Set(input.records.map((record) => record.split))];
  const trainRecords = input.records.filter((record) => record.split === splits.train);
  if (trainRecords.length === 0) {
    throw new UserError({
      message: `the teacher records hold no examples of the training split "${splits.train}" (they hold: ${present.join(', ') || 'nothing'})`,
      pointer: '/dataset/splits/train',
      fix: 'run `distill teach` for this pipeline, or point dataset.splits.train at a split the teacher labelled',
    });
  }
  let trainingRecords: readonly TeacherRecord[] = trainRecords;
  let validation: TrainingExample[];
  if (splits.validation) {
    const records = input.records.filter((record) => record.split === splits.validation);
    validation =
      records.length > 0
        ? evaluationFromRecords(records, limit.validation)
        : await readEvaluationSplit(input.dataset, splits.validation, limit.validation);
  } else {
    const groupOf = input.dataset.groupOf?.bind(input.dataset);
    const heldOut = holdOutValidation(trainRecords, validationFraction, input.seed, (record) =>
      groupOf ? groupOf({ id: record.id, split: record.split, fields: record.fields, goldLabel: record.gold_label }) : record.id,
    );
    trainingRecords = heldOut.train;
    validation = evaluationFromRecords(heldOut.validation, limit.validation);
  }
  const test = input.test.map((example) => evaluationExample(example.id, example.input, example.label));

  const items = applySamplers(sampleItemsFromRecords(trainingRecords, imputedLabelFor(input.dataset.labels)), input.samplers, input.seed);
  if (items.length === 0) {
    throw new UserError({
      message: 'the samplers left no training examples',
      pointer: '/samplers',
      fix: 'raise the data fraction, or drop whole examples less eagerly',
    });
  }
  const train = trainingExamplesFromItems(items, input.exampleWeight);
  const summary = { ...summariseTrainingData(trainingRecords, items), validation: validation.length, test: test.length };
  input.events.emit('train.data', summary);

  // What the trainer is asked, and (with the trainer's step) what a checkpoint may be resumed for.
  const request = { train, validation, test, student: input.student, alpha: input.alpha, metric: input.metric, seed: input.seed };
  const signature = canonicalHash({ ...request, trainer: { use: input.trainerStep.use, options: input.trainerStep.options } });
  const output = path.resolve(input.outputDirectory);
  const signaturePath = path.join(output, signatureFile);
  const previous = existsSync(signaturePath) ? readTextFileNoFollow(signaturePath).trim() : null;
  const resume = !input.restart && previous === signature;
  if (!resume && existsSync(output)) {
    // Checkpoints of another request must never be resumed into this one.
    await rm(output, { recursive: true, force: true });
  }
  await mkdir(output, { recursive: true });
  writeFileNoFollow(signaturePath, signature + '\n');

  const result = await input.trainer.train({ outputDirectory: output, ...request, resume }, input.events, input.signal);
  return { ...result, outputDirectory: output, data: summary, resumed: resume };
}
