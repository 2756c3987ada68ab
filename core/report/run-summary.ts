/** One point of a curve. */
export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

/** A named series of a chart. */
export interface Series {
  readonly name: string;
  readonly points: readonly CurvePoint[];
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
}

/** One grid point of a sweep, after averaging over seeds. */
export interface SweepPoint {
  readonly mode: string;
  readonly dataFraction: number;
  readonly rationaleRate: number;
  readonly alpha: number;
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
  /** Stages with how they ended this time (`computed`, `reused`). */
  readonly stages: readonly { readonly stage: string; readonly status: string }[];
}
