import type { CalibrationFile } from '../calibration/calibration-file.js';
import type { OperatingPoint } from '../calibration/thresholds.js';
import type { PrecisionChoice } from '../inference/precision-choice.js';
import type { StudentPrecision } from '../inference/student-folder.js';
import type { QuantizationComparison } from '../plugins/kinds/exporter.js';
import type { ConfusionMatrix } from '../report/confusion-matrix.js';
import type { ExamplePrediction } from '../report/run-summary.js';
import type { TeacherReport } from '../teacher/teacher-report.js';
import type { TrainStageResult } from '../training/train-stage.js';
import type { StageName } from './stage-name.js';

/** What the dataset stage records: split sizes, the majority class of the test split, and the test split itself. */
export interface DatasetStageOutput {
  readonly examples: Record<string, number>;
  /** Share of the most frequent gold label in the test split: the bar a student must clear. */
  readonly majorityClass: { readonly label: string; readonly share: number } | null;
  /**
   * The test examples with gold labels (`{id, input, label}` JSON lines, `input` as the student sees it),
   * in the stage's folder: what training scores on test and what the exported model is evaluated on.
   */
  readonly testFile: string;
}

/** What the export stage records. */
export interface ExportStageOutput {
  readonly directory: string;
  readonly files: readonly string[];
  readonly bytes: number;
  /** The quantised model's accuracy against full precision, when the exporter quantised. */
  readonly quantization: QuantizationComparison | null;
  /**
   * The precision the folder loads by default and why, when it holds int8 graphs (chosen on the
   * validation split); absent in records written before distill chose one.
   */
  readonly precisionChoice?: PrecisionChoice | null;
}

/** What the evaluate stage records: the exported student scored in Node, and its latency. */
export interface EvaluateStageOutput {
  readonly metric: string;
  readonly accuracy: number;
  readonly examples: number;
  /** PyTorch test accuracy of the same checkpoint, from the trainer. */
  readonly trainerAccuracy: number;
  readonly latencyMilliseconds: { readonly p50: number; readonly p95: number };
  /**
   * How the labels were decoded: `generation` (free, greedy) or `label-scoring` (the likeliest allowed
   * label). Absent in records stored before the pipeline's `evaluation` block existed: generation.
   */
  readonly decoding?: EvaluationDecoding;
  /** Which exported graphs were scored. Absent in records stored before it was recorded: fp32. */
  readonly precision?: StudentPrecision;
  /** The labels label scoring was given (a T5 folder carries none; a causal-LM folder's own are used): null for none. */
  readonly scoredLabels?: readonly string[] | null;
  /** `predictions.jsonl`, relative to the stage's folder: `{id, input, gold, predicted, confidence?}` per test example. */
  readonly predictionsFile?: string;
  /** Gold against predicted over the dataset's closed label set; null where the answers are free text. */
  readonly confusion?: ConfusionMatrix | null;
  /** The first ten test examples with the student's answer and, where asked, the teacher's. */
  readonly examplePredictions?: readonly ExamplePrediction[];
  /** How latency and CPU time were measured: predictions one at a time (batch 1) on `threads` onnxruntime threads. */
  readonly serving?: { readonly predictions: number; readonly threads: number; readonly cpuSeconds: number };
  /** The teacher on the same test examples (`evaluation.teacher_on_test`); null when not asked. */
  readonly teacherOnTest?: TeacherOnTestOutput | null;
  /** The student's confidence calibration (`evaluation.calibrate`); null or absent when not asked. */
  readonly calibration?: EvaluateCalibrationOutput | null;
}

/** What the evaluate stage's calibration wrote, and the validation curve the report draws. */
export interface EvaluateCalibrationOutput {
  /** The `calibration.json` written into the exported model folder, as written. */
  readonly calibration: CalibrationFile;
  /** Coverage, agreement and its lower bound at each validation threshold, highest threshold first. */
  readonly curve: readonly OperatingPoint[];
  /** Why the file has no `test` part, when it has none. */
  readonly testMissing: string | null;
}

/** The teacher scored on the test examples the student is scored on. */
export interface TeacherOnTestOutput {
  /** The student's test examples, all of them: one without a teacher answer counts as wrong. */
  readonly examples: number;
  readonly correct: number;
  readonly accuracy: number;
  /** The teacher's records of the test split, relative to the evaluate stage's folder (`teacher-test/teacher-records.jsonl`). */
  readonly recordsFile: string;
  /** The teach report of those records: tokens, price, failures. */
  readonly report: TeacherReport;
}

/** How the evaluate stage decodes a label. */
export type EvaluationDecoding = 'generation' | 'label-scoring';

/** The trainer stage's output: the train stage's result and the metric it was scored with. */
export type TrainerStageOutput = TrainStageResult & { readonly metric: string };

/**
 * The output of each stage: the contract between a stage and those after it, and what its record
 * stores. Sampling runs inside the trainer stage, so it has no output (and no stage) of its own.
 */
export interface StageOutputs {
  readonly dataset: DatasetStageOutput;
  readonly teacher: TeacherReport;
  readonly trainer: TrainerStageOutput;
  readonly export: ExportStageOutput;
  readonly evaluate: EvaluateStageOutput;
}

/** Any map from stage name to output type (the pipeline's is {@link StageOutputs}; tests use their own). */
export type OutputMap = { readonly [Name in StageName]: unknown };
