import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import { loadStudent, type LoadStudentOptions, type Prediction, type Student } from '../inference/load-student.js';
import { readStudentFolder } from '../inference/student-folder.js';
import { createEvaluator } from '../inference/score-predictions.js';
import type { Evaluator } from '../plugins/kinds/evaluator.js';
import { standalonePluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import {
  calibrationFileName,
  writeCalibrationFile,
  type CalibrationFile,
  type CalibrationReference,
  type ConfidenceKind,
} from './calibration-file.js';
import { readRunFolderSources, teacherKey, type RunFolderSources, type SplitExample } from './run-folder-sources.js';
import {
  achievedAt,
  calibrateThresholds,
  defaultBoundLevel,
  defaultTargets,
  operatingPoints,
  type CalibrationExample,
  type OperatingPoint,
} from './thresholds.js';

/** What `distill calibrate` (and the evaluate stage with `evaluation.calibrate`) asks for. */
export interface CalibrateRequest {
  /** A run folder (`runs/<name>`) or its model folder (`runs/<name>/model`). */
  readonly folder: string;
  /** The plugins: the run's metric is an evaluator plugin's id. */
  readonly registry: PluginRegistry;
  /** What agreement is measured against (default `teacher`). */
  readonly against?: CalibrationReference;
  /** Target agreements, each strictly between 0 and 1 (default 0.90, 0.95, 0.98, 0.99). */
  readonly targets?: readonly number[];
  /** The closed label set to score, where the run recorded none (a T5 run evaluated by generation). */
  readonly labels?: readonly string[];
  readonly student?: LoadStudentOptions;
  /**
   * The student's label-scoring answers on the whole test split, in its order, where the caller has
   * them already with the same labels (the evaluate stage with `score_labels`): the test split is then
   * not scored a second time.
   */
  readonly testPredictions?: readonly Prediction[];
}

/** What calibration wrote, and the curve behind it. */
export interface CalibrateResult {
  /** The `calibration.json` written. */
  readonly file: string;
  readonly calibration: CalibrationFile;
  /** Coverage, agreement and its bound at every validation threshold, highest threshold first (the report's curve). */
  readonly curve: readonly OperatingPoint[];
  /** Validation examples left out: no teacher answer to compare with. */
  readonly skippedValidation: number;
  /** Why `test` is missing from the file, when it is. */
  readonly testMissing: string | null;
}

/** The student's answer and its confidence for each example, in order. */
async function scoreExamples(student: Student, examples: readonly SplitExample[], labels: readonly string[] | null) {
  const scored: { label: string; confidence: number }[] = [];
  const chunk = 64;
  for (let start = 0; start < examples.length; start += chunk) {
    const inputs = examples.slice(start, start + chunk).map((example) => example.input);
    const predictions = await student.predict(inputs, labels ? { scoreLabels: true, labels } : { answerLogProbability: true });
    for (const prediction of predictions) {
      scored.push({ label: prediction.label, confidence: (labels ? prediction.confidence : prediction.meanLogProbability) ?? Number.NaN });
    }
  }
  return scored;
}

/**
 * The calibration examples of a split: the student's confidence and whether its answer, and the
 * teacher's, agree with the reference. Against the teacher, an example the teacher never answered has
 * no reference and is left out; against gold, the teacher must have answered too (the fallback answers
 * with it), so the same holds.
 */
function calibrationExamples(
  examples: readonly SplitExample[],
  scored: readonly { label: string; confidence: number }[],
  teacherAnswers: ReadonlyMap<string, string>,
  against: CalibrationReference,
  evaluator: Evaluator,
): CalibrationExample[] {
  const agrees = (answer: string, reference: string) => evaluator.score(answer, reference) >= 1;
  const result: CalibrationExample[] = [];
  examples.forEach((example, index) => {
    const teacher = teacherAnswers.get(teacherKey(example.id, example.input));
    if (teacher === undefined) return;
    const student = scored[index]!;
    const reference = against === 'teacher' ? teacher : example.gold;
    result.push({
      confidence: student.confidence,
      studentAgrees: agrees(student.label, reference),
      teacherAgrees: against === 'teacher' ? true : agrees(teacher, example.gold),
    });
  });
  return result;
}

/**
 * Calibrates an exported student of a run: scores the validation split (label probabilities where
 * the labels are known, else each free answer's mean token log-probability), finds each target's
 * threshold with a Clopper–Pearson bound, writes `calibration.json` into the model folder (and into
 * the export stage's folder that `<run>/model` links to, so a rerun's relinking keeps it), then
 * scores the test split where the teacher answered it and adds what each threshold achieved there.
 * The test split never takes part in choosing.
 */
export async function calibrateModel(request: CalibrateRequest): Promise<CalibrateResult> {
  return calibrateSources(await readRunFolderSources(request.folder), request);
}

/** {@link calibrateModel} on sources already read: what the evaluate stage calls with its own stage records. */
export async function calibrateSources(sources: RunFolderSources, request: Omit<CalibrateRequest, 'folder'>): Promise<CalibrateResult> {
  const against = request.against ?? 'teacher';
  const targets = request.targets ?? defaultTargets;
  const level = defaultBoundLevel;
  const labels = request.labels ?? sources.labels;
  const dependencies = standalonePluginDependencies({ baseDirectory: sources.runDirectory, environment: process.env });
  const evaluator = await createEvaluator(request.registry, sources.metric, dependencies);
  const student = await loadStudent(sources.modelDirectory, request.student);
  try {
    // A causal-LM folder carries its own labels; a T5 one is given the run's.
    const folder = readStudentFolder(sources.modelDirectory, request.student?.precision ?? 'fp32');
    const scoredLabels = labels ?? (folder.family === 'causal-lm' ? folder.descriptor.labels : null);
    const confidence: ConfidenceKind = scoredLabels ? 'label-probability' : 'mean-token-log-probability';
    const validationScores = await scoreExamples(student, sources.validation, scoredLabels);
    const validation = calibrationExamples(sources.validation, validationScores, sources.teacherAnswers, against, evaluator);
    if (validation.length === 0) {
      throw new UserError({
        message: `the teacher records of ${sources.runDirectory} hold no answer for any of its ${sources.validation.length} validation examples`,
        fix: 'let the teacher label the validation split (hold validation out of the training split with dataset.validation_fraction, or add the validation role to the teacher)',
      });
    }
    const thresholds = calibrateThresholds(validation, targets, level);
    const curve = operatingPoints(validation, level);
    const testExamples = sources.test.filter((example) => sources.teacherAnswers.has(teacherKey(example.id, example.input)));
    let testMissing: string | null = null;
    let test: CalibrationFile['test'];
    if (testExamples.length === 0) {
      testMissing =
        sources.test.length === 0
          ? 'the run has no test split'
          : 'the teacher never answered the test split: set evaluation.teacher_on_test: true and run the pipeline again';
    } else {
      const reusable = scoredLabels !== null && request.testPredictions?.length === sources.test.length;
      const testScores = reusable
        ? sources.test
            .map((example, index) => ({ example, prediction: request.testPredictions![index]! }))
            .filter(({ example }) => sources.teacherAnswers.has(teacherKey(example.id, example.input)))
            .map(({ prediction }) => ({ label: prediction.label, confidence: prediction.confidence ?? Number.NaN }))
        : await scoreExamples(student, testExamples, scoredLabels);
      const scored = calibrationExamples(testExamples, testScores, sources.teacherAnswers, against, evaluator);
      test = thresholds.map((entry) => {
        const achieved = achievedAt(scored, entry.threshold);
        return {
          target: entry.target,
          threshold: entry.threshold,
          coverage: achieved.coverage,
          agreement: achieved.agreement,
          examples: achieved.examples,
        };
      });
    }
    const calibration: CalibrationFile = {
      format: 1,
      against,
      split: 'valid',
      examples: validation.length,
      confidence,
      bound: { method: 'clopper-pearson', level },
      thresholds: thresholds.map((entry) => ({
        target: entry.target,
        threshold: entry.threshold,
        expected_coverage: entry.expectedCoverage,
        validation_agreement: entry.validationAgreement,
        agreement_lower_bound: entry.agreementLowerBound,
      })),
      ...(test ? { test } : {}),
    };
    const file = writeCalibrationFile(sources.modelDirectory, calibration);
    // `<run>/model` holds hard links to the export's files: the export's folder gets the same file,
    // so that the next run, relinking `model/`, carries the calibration of the model it links.
    const exported = sources.exportedDirectory;
    if (exported && path.resolve(exported) !== path.resolve(sources.modelDirectory) && existsSync(exported)) {
      writeFileNoFollow(path.join(exported, calibrationFileName), JSON.stringify(calibration, null, 2) + '\n');
    }
    return { file, calibration, curve, skippedValidation: sources.validation.length - validation.length, testMissing };
  } finally {
    await student.close();
  }
}
