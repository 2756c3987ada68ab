import type { CalibrationSummary } from './calibration-report.js';
import type { ConfusionMatrix } from './confusion-matrix.js';
import type { ReliabilitySummary } from './reliability.js';

/** One point of a curve. */
export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

/** A named series of a chart. */
export interface Series {
  readonly name: string;
  readonly points: readonly CurvePoint[];
  /** Drawn thin and pale behind the others, and left out of the legend (a raw curve behind its smoothed one). */
  readonly faint?: boolean;
  /** Palette colour, where it should match another series' (default: the series' position). */
  readonly colorIndex?: number;
}

/** What the teacher stage cost and how good its answers were. */
export interface TeacherSummary {
  readonly provider: string;
  readonly model: string;
  readonly examples: number;
  /** Teacher label accuracy against gold, where gold exists (0..1), else null. */
  readonly accuracy: number | null;
  /** Share of examples with a usable rationale (0..1). */
  readonly explanationRate: number;
  readonly unparsed: number;
  readonly failed: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly dollars: number;
}

/** The student, as trained and as exported. */
export interface StudentSummary {
  readonly steps: number;
  readonly validationAccuracy: number;
  /** PyTorch test accuracy of the chosen checkpoint. */
  readonly testAccuracy: number;
  /** Test examples behind `testAccuracy` when the trainer says (fewer than the split with a test limit). */
  readonly testExamples: number | null;
  /** Test examples the exported model was scored on, when exported. */
  readonly exportedTestExamples: number | null;
  /** Accuracy of the exported model on the same test split, when exported. */
  readonly exportedTestAccuracy: number | null;
  /** How the exported model was scored, e.g. `free generation, fp32` or `label scoring, int8`; null when not evaluated. */
  readonly exportedEvaluation: string | null;
  /** Accuracy of the int8-quantised export on the same test split, when the exporter quantised. */
  readonly quantizedTestAccuracy: number | null;
  /** Share of the majority class of the test split, the bar a student must clear. */
  readonly majorityClassAccuracy: number | null;
  /** Size of the exported folder in bytes. */
  readonly exportedBytes: number | null;
  /** Median latency of one `predict` at batch 1 in Node, in milliseconds. */
  readonly latencyMilliseconds: number | null;
  /** Loss curves: total, label, rationale. */
  readonly lossCurves: readonly Series[];
  /** Validation accuracy (0..1) at each evaluation step, where the trainer recorded it. */
  readonly validationCurve?: Series | null;
  /** Step of the checkpoint chosen on validation, where the trainer says. */
  readonly bestStep?: number | null;
}

/** One test example with the student's answer and, where it was asked, the teacher's. */
export interface ExamplePrediction {
  readonly id: string;
  readonly input: string;
  readonly gold: string;
  readonly student: string;
  /** The student's probability among the labels, with label scoring; else null. */
  readonly studentConfidence: number | null;
  /** Whether the teacher was asked on the test split; when not, `teacher` and `teacherRationale` are null. */
  readonly teacherAsked: boolean;
  /** The teacher's parsed label; null when not asked, unparsed or failed. */
  readonly teacher: string | null;
  readonly teacherRationale: string | null;
}

/** What the teacher costs per 1,000 answers: tokens, and dollars where a price is known. */
export interface TeacherCost {
  readonly provider: string;
  readonly model: string;
  /** `test`: its answers on the test examples; `training`: its training answers (not asked on test). */
  readonly measuredOn: 'test' | 'training';
  /** Answers the means are over. */
  readonly answers: number;
  readonly promptTokensPerThousand: number;
  readonly completionTokensPerThousand: number;
  /** List price of 1,000 answers; null when no price is known for the model. */
  readonly dollarsPerThousand: number | null;
  /** The price row applied (`openai/gpt-4o-mini`), or null. */
  readonly priceKey: string | null;
}

/** What the student costs per 1,000 predictions on CPU. */
export interface StudentCost {
  /** Process CPU seconds per 1,000 predictions, one at a time (batch 1). */
  readonly cpuSecondsPerThousand: number;
  readonly threads: number;
  /** Predictions the CPU time was measured over. */
  readonly predictions: number;
  /** The assumed price of one CPU core for an hour (`evaluation.cpu_price_per_hour`). */
  readonly cpuPricePerHour: number;
  readonly dollarsPerThousand: number;
}

/** How to use the exported student: its folder, an input in its format, and calls that run it. */
export interface ModelUsage {
  readonly directory: string;
  /** A real test input, as the student reads it. */
  readonly exampleInput: string;
  /** A `distill predict` command line. */
  readonly cli: string;
  /** A JavaScript module calling `loadStudent`. */
  readonly library: string;
}

/** Teacher and student on the same test examples, with latency, cost and example predictions. */
export interface ComparisonSummary {
  /** Test examples the student was scored on (the teacher too, where it was asked). */
  readonly testExamples: number;
  readonly studentAccuracy: number;
  /** e.g. `label scoring, fp32`. */
  readonly studentEvaluation: string;
  /** Teacher accuracy on those same examples; null when it was not asked on the test split. */
  readonly teacherAccuracy: number | null;
  /** Where the teacher was not asked on test: its agreement with gold on its training answers, and how many. */
  readonly teacherTrainingAccuracy: number | null;
  readonly teacherTrainingExamples: number | null;
  readonly teacherCost: TeacherCost | null;
  readonly studentCost: StudentCost | null;
  /** Milliseconds of one prediction at batch 1. */
  readonly latency: { readonly p50: number; readonly p95: number; readonly threads: number | null; readonly predictions: number | null };
  readonly confusion: ConfusionMatrix | null;
  readonly examples: readonly ExamplePrediction[];
  readonly usage: ModelUsage | null;
}

/** One grid point of a sweep, after averaging over seeds. */
export interface SweepPoint {
  readonly mode: string;
  readonly dataFraction: number;
  readonly rationaleRate: number;
  /** Null where the pipeline's own loss weight (not α's owner) was kept. */
  readonly alpha: number | null;
  /** The min-confidence threshold (0: nothing dropped for its confidence); absent in summaries from before it existed. */
  readonly minConfidence?: number;
  /** Test accuracy per seed. */
  readonly accuracies: readonly number[];
}

/** Everything a report shows about one run. */
export interface RunSummary {
  readonly pipeline: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly teacher: TeacherSummary | null;
  readonly student: StudentSummary | null;
  readonly sweep: readonly SweepPoint[];
  /** The teacher's accuracy in bins of its confidence, where its records carry confidence and gold; absent or null otherwise. */
  readonly reliability?: ReliabilitySummary | null;
  /** Teacher and student on the test examples, where the evaluate stage ran; absent or null otherwise. */
  readonly comparison?: ComparisonSummary | null;
  /** The student's confidence calibration (`evaluation.calibrate`); absent or null when it did not run. */
  readonly calibration?: CalibrationSummary | null;
  /** Stages with how they ended this time (`computed`, `reused`). */
  readonly stages: readonly { readonly stage: string; readonly status: string }[];
}
