import { availableParallelism } from 'node:os';
import path from 'node:path';
import { calibrateSources } from '../../calibration/calibrate-model.js';
import { readRunStageFiles } from '../../calibration/run-folder-sources.js';
import type { EvaluationSettings } from '../../config/pipeline-config.js';
import { UserError } from '../../errors/user-error.js';
import { writeFileNoFollow } from '../../files/no-follow-files.js';
import { scoreStudent } from '../../inference/evaluate-student.js';
import { loadStudent, type LoadStudentOptions, type Prediction, type PredictOptions } from '../../inference/load-student.js';
import { defaultPrecisionOf } from '../../inference/precision-choice.js';
import { readStudentFolder } from '../../inference/student-folder.js';
import { defaultCpuPricePerHour } from '../../report/comparison-summary.js';
import { confusionMatrix } from '../../report/confusion-matrix.js';
import type { ExamplePrediction } from '../../report/run-summary.js';
import { percentile } from '../../report/statistics.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import type { EvaluateCalibrationOutput, EvaluateStageOutput, TeacherOnTestOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { teacherOnTest } from './teacher-on-test.js';
import { readTestSplit, type TestExample } from './test-split.js';

/** What the evaluate stage does when the pipeline has no `evaluation` block: free generation with the folder's default graphs. */
const defaultEvaluation: EvaluationSettings = {
  score_labels: false,
  teacher_on_test: false,
  cpu_price_per_hour: defaultCpuPricePerHour,
};

/** Predictions timed one at a time for latency and CPU cost: enough for a p95, a few seconds for the quickstart. */
const servingPredictions = 100;

/** Threads of the timed predictions: one, as one request of `distill serve` is answered. */
const servingThreads = 1;

/** Test examples the report lists with both answers. */
const examplesShown = 10;

/**
 * Milliseconds of each prediction at batch 1 over real inputs, after one warm-up call, and the
 * process CPU seconds they took (onnxruntime's threads included): what serving one answer costs.
 */
async function timePredictions(
  model: string,
  inputs: readonly string[],
  studentOptions: LoadStudentOptions,
  predictOptions: PredictOptions,
): Promise<{ milliseconds: number[]; cpuSeconds: number }> {
  const student = await loadStudent(model, { ...studentOptions, intraOpThreads: servingThreads });
  const milliseconds: number[] = [];
  try {
    if (inputs.length > 0) await student.predict([inputs[0]!], predictOptions);
    const cpuBefore = process.cpuUsage();
    for (const input of inputs) {
      const started = performance.now();
      await student.predict([input], predictOptions);
      milliseconds.push(performance.now() - started);
    }
    const cpu = process.cpuUsage(cpuBefore);
    return { milliseconds: milliseconds.sort((left, right) => left - right), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await student.close();
  }
}

/** Writes `predictions.jsonl`: one line per test example, in the test split's order. */
function writePredictions(file: string, examples: readonly TestExample[], predictions: readonly Prediction[]): void {
  const lines = examples.map((example, index) => {
    const prediction = predictions[index]!;
    return JSON.stringify({
      id: example.id,
      input: example.input,
      gold: example.label,
      predicted: prediction.label,
      ...(prediction.confidence !== undefined ? { confidence: prediction.confidence } : {}),
    });
  });
  writeFileNoFollow(file, lines.map((line) => line + '\n').join(''));
}

/**
 * Scores the exported model in Node on the dataset stage's test split and measures its latency, with
 * the pipeline's decoding and precision. Label scoring uses a causal-LM folder's own labels (those it
 * was trained on, in its `distill-student.json`) and the dataset's closed label set for a T5 folder.
 * With `teacher_on_test`, the teacher answers the same examples.
 */
async function evaluate(
  context: PipelineContext,
  stage: StageContext,
  evaluation: EvaluationSettings,
  datasetLabels: readonly string[] | null,
): Promise<EvaluateStageOutput> {
  const { metric } = context;
  const trained = stage.upstream.trainer!.output;
  const exported = stage.upstream.export!.output;
  const testFile = stage.upstream.dataset!.output.testFile;
  // Unset, the precision is the folder's own default: what `distill predict` and `distill serve` load.
  const precision = evaluation.precision ?? defaultPrecisionOf(exported.directory);
  const studentOptions: LoadStudentOptions = { precision };
  const labels = evaluation.score_labels && readStudentFolder(exported.directory).family === 't5' ? datasetLabels : null;
  const predictOptions: PredictOptions = evaluation.score_labels ? { scoreLabels: true, ...(labels ? { labels } : {}) } : {};
  // No length options: the exported folder carries the trainer's input cut-off and generation
  // length, and scoring with its defaults is what `distill eval` and `distill serve` do. Scoring the
  // split is a batch job with the machine to itself, so it uses every core; latency below is measured
  // as one request of a server is answered, on one thread.
  const scored = await scoreStudent({
    model: exported.directory,
    registry: context.loaded.registry,
    dataset: testFile,
    metric,
    student: { ...studentOptions, intraOpThreads: availableParallelism() },
    scoreLabels: evaluation.score_labels,
    ...(labels ? { labels } : {}),
  });
  const examples = readTestSplit(testFile);
  const timed = await timePredictions(
    exported.directory,
    examples.slice(0, servingPredictions).map((example) => example.input),
    studentOptions,
    predictOptions,
  );
  // Named relative to the stage's folder, so that a moved project's record still finds it.
  const predictionsFile = 'predictions.jsonl';
  writePredictions(path.join(stage.stageDirectory, predictionsFile), examples, scored.predictions);
  const evaluator = await context.instances.of(context.loaded, 'evaluator', context.loaded.config.evaluators[0]!);
  const matches = (predicted: string, gold: string) => evaluator.score(predicted, gold) >= 1;
  const teacher = evaluation.teacher_on_test ? await teacherOnTest(context, stage, examples, evaluator) : null;
  const examplePredictions: ExamplePrediction[] = examples.slice(0, examplesShown).map((example, index) => {
    const record = teacher?.records.get(example.id);
    return {
      id: example.id,
      input: example.input,
      gold: example.label,
      student: scored.predictions[index]!.label,
      studentConfidence: scored.predictions[index]!.confidence ?? null,
      teacherAsked: teacher !== null,
      teacher: record?.teacher_label ?? null,
      teacherRationale: record?.rationale ?? null,
    };
  });
  // With label scoring, calibration scores the labels this stage scored (a causal-LM folder's own: null)
  // and reuses its test answers; otherwise it scores the dataset's labels where there are any.
  const calibration = evaluation.calibrate
    ? await calibrateInStage(context, stage, teacher?.output ?? null, evaluation.score_labels ? labels : datasetLabels, scored.predictions)
    : null;
  const pairs = examples.map((example, index) => ({ gold: example.label, predicted: scored.predictions[index]!.label }));
  return {
    metric,
    accuracy: scored.report.accuracy,
    examples: scored.report.examples,
    trainerAccuracy: trained.testAccuracy,
    latencyMilliseconds: { p50: percentile(timed.milliseconds, 0.5), p95: percentile(timed.milliseconds, 0.95) },
    decoding: evaluation.score_labels ? 'label-scoring' : 'generation',
    precision,
    scoredLabels: labels,
    predictionsFile,
    confusion: datasetLabels ? confusionMatrix(datasetLabels, pairs, matches) : null,
    examplePredictions,
    serving: { predictions: timed.milliseconds.length, threads: servingThreads, cpuSeconds: timed.cpuSeconds },
    teacherOnTest: teacher?.output ?? null,
    ...(calibration ? { calibration } : {}),
  };
}

/**
 * `evaluation.calibrate`: calibrates the export from this run's own stage records (the trainer's
 * validation split, the teacher's records, and its test answers when asked), against the teacher
 * with the default targets, into the export's model folder, which `<run>/model` then links.
 */
async function calibrateInStage(
  context: PipelineContext,
  stage: StageContext,
  teacherOnTestOutput: TeacherOnTestOutput | null,
  labels: readonly string[] | null,
  testPredictions: readonly Prediction[],
): Promise<EvaluateCalibrationOutput> {
  const trained = stage.upstream.trainer!.output;
  const exported = stage.upstream.export!.output;
  const teacherStage = stage.upstream.teacher;
  const sources = await readRunStageFiles({
    runDirectory: stage.runDirectory,
    modelDirectory: exported.directory,
    exportedDirectory: exported.directory,
    validationFile: path.join(trained.outputDirectory, 'data', 'validation.jsonl'),
    testFile: stage.upstream.dataset!.output.testFile,
    metric: context.metric,
    teacherRecordFiles: [
      ...(teacherStage ? [path.join(stage.runDirectory, teacherStage.directory, 'teacher-records.jsonl')] : []),
      ...(teacherOnTestOutput ? [path.join(stage.stageDirectory, teacherOnTestOutput.recordsFile)] : []),
    ],
    labels,
  });
  const result = await calibrateSources(sources, {
    registry: context.loaded.registry,
    student: { intraOpThreads: availableParallelism() },
    ...(context.loaded.config.evaluation?.score_labels ? { testPredictions } : {}),
  });
  return { calibration: result.calibration, curve: result.curve, testMissing: result.testMissing };
}

/**
 * The evaluate stage: the exported student scored in Node, as `distill eval` and `distill serve` run it.
 * The pipeline's `evaluation` settings join the stage's inputs only where they differ from the
 * defaults, so that run folders stored before the block existed keep their signatures. Label scoring
 * on a dataset without a closed label set is refused here, before any stage runs.
 */
export async function evaluateStage(context: PipelineContext): Promise<StageDefinition<'evaluate'>> {
  const { loaded } = context;
  const evaluation = { ...defaultEvaluation, ...loaded.config.evaluation };
  const dataset = await context.instances.of(loaded, 'dataset', loaded.config.dataset);
  if (evaluation.score_labels && dataset.labels === null) {
    throw new UserError({
      file: loaded.file,
      pointer: '/evaluation/score_labels',
      plugin: `dataset/${loaded.config.dataset.use}`,
      message: `evaluation.score_labels scores a closed set of labels, but the dataset (${loaded.config.dataset.use}) has none: its answers are free text`,
      fix: 'set evaluation.score_labels: false to generate the answers freely',
    });
  }
  const customised = evaluation.score_labels !== defaultEvaluation.score_labels || evaluation.precision !== defaultEvaluation.precision;
  const calibrate = evaluation.calibrate === true;
  return {
    name: 'evaluate',
    inputs: {
      evaluators: loaded.config.evaluators.map((step) => stepIdentity(loaded, 'evaluator', step)),
      ...(customised ? { evaluation: { score_labels: evaluation.score_labels, precision: evaluation.precision } } : {}),
      // Only when asked: the signatures of pipelines that do not calibrate stay as they were.
      ...(calibrate ? { calibrate: true } : {}),
      // The teacher's answers on test depend on the teacher, its prompt and parser, as its training answers do.
      ...(evaluation.teacher_on_test
        ? {
            teacher_on_test: {
              teacher: stepIdentity(loaded, 'teacher', loaded.config.teacher),
              prompt: {
                ...stepIdentity(loaded, 'prompt', loaded.config.prompt),
                templateHash: (await context.instances.prompt(loaded)).templateHash,
              },
              parser: stepIdentity(loaded, 'parser', loaded.config.parser),
            },
          }
        : {}),
    },
    run: (stage) => evaluate(context, stage, evaluation, dataset.labels),
    // Records stored before the stage kept its example predictions and CPU time are scored again in
    // place (the report needs them). Only fields are checked, never a stored path, so that a moved
    // project keeps its record.
    reusable: (output) =>
      output.examplePredictions !== undefined && output.serving !== undefined && (!calibrate || output.calibration !== undefined),
  };
}
