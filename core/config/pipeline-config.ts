/** A pipeline step: which plugin, with which options (validated against the plugin's schema). */
export interface PluginStep {
  readonly use: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** The dataset step, with the roles its splits play. */
export interface DatasetStep extends PluginStep {
  readonly splits: { readonly train: string; readonly validation?: string; readonly test: string };
  readonly validation_fraction: number;
  readonly limit: { readonly train?: number; readonly validation?: number; readonly test?: number };
}

/** The teacher step, with the request engine's limits. */
export interface TeacherStep extends PluginStep {
  readonly limits: {
    readonly concurrency: number;
    readonly requests_per_minute?: number;
    readonly tokens_per_minute?: number;
    readonly max_retries?: number;
    /** Cap on the wait a provider may ask for before a retry (`retry-after`), in seconds. */
    readonly max_retry_after_seconds: number;
  };
  /** Share of examples that may end with no answer for the teacher stage to count as done (default 0). */
  readonly max_failure_rate: number;
  /** `realtime` (default): one chat call per request; `batch`: the provider's batch API. */
  readonly mode: 'realtime' | 'batch';
  /** Batch mode settings (defaults applied). */
  readonly batch: {
    readonly poll_seconds: number;
    readonly max_poll_seconds: number;
    readonly max_requests_per_batch?: number;
  };
  /** Answers asked per example (self-consistency); 1 by default. */
  readonly samples: number;
}

/** Dollars per million tokens. */
export interface Price {
  readonly prompt: number;
  readonly completion: number;
  /** Through the provider's batch API (`teacher.mode: batch`); absent: the real-time price times the teacher's `batchPriceShare`. */
  readonly batch_prompt?: number;
  readonly batch_completion?: number;
}

/**
 * A validated pipeline, `extends` merged, `${ENV}` filled, defaults applied. Mirrors
 * `schemas/pipeline.schema.json`; YAML keys stay snake_case so that messages quote what users wrote.
 */
export interface PipelineConfig {
  readonly name: string;
  readonly description?: string;
  readonly plugins: readonly string[];
  readonly seed: number;
  readonly dataset: DatasetStep;
  readonly teacher: TeacherStep;
  readonly prompt: PluginStep;
  readonly parser: PluginStep;
  readonly samplers: readonly PluginStep[];
  readonly student: import('../plugins/kinds/trainer.js').StudentSpecification;
  readonly trainer: PluginStep;
  readonly loss: PluginStep;
  readonly evaluators: readonly PluginStep[];
  readonly export?: PluginStep;
  /** How the evaluate stage scores the exported student; absent: free generation, fp32. */
  readonly evaluation?: EvaluationSettings;
  readonly budget: { readonly max_usd?: number; readonly max_requests?: number };
  readonly prices: Readonly<Record<string, Price>>;
  readonly cache: { readonly path?: string; readonly enabled: boolean };
  readonly output: { readonly directory: string };
  /** A grid of trainings sharing one teacher stage (see `core/runner/sweep-grid.ts`). */
  readonly sweep?: SweepGrid;
}

/** The pipeline's `evaluation` block, its defaults filled by the schema. */
export interface EvaluationSettings {
  /** Score the allowed labels instead of generating the answer freely. */
  readonly score_labels: boolean;
  /** Which exported graphs to evaluate; absent: the folder's default (`distill-precision.json`, else fp32). */
  readonly precision?: 'fp32' | 'int8';
  /** Ask the teacher for the test examples too, so that the report compares both on the same examples. */
  readonly teacher_on_test: boolean;
  /** Calibrate the student's confidence thresholds after scoring (`distill calibrate`, docs/calibration.md); absent: false. */
  readonly calibrate?: boolean;
  /** US dollars per CPU-core hour, for the student's cost per 1,000 predictions in the report. */
  readonly cpu_price_per_hour: number;
}

/** The axes of a sweep; an absent axis keeps the pipeline's own value. */
export interface SweepGrid {
  readonly data_fraction?: readonly number[];
  readonly rationale_rate?: readonly number[];
  readonly alpha?: readonly number[];
  /** Thresholds of the `min-confidence` sampler. */
  readonly min_confidence?: readonly number[];
  readonly seed?: readonly number[];
  readonly mode?: readonly ('standard' | 'step-by-step')[];
}

/** Where each plugin-bearing step sits in the pipeline, with its kind: one list for validation, `plugins` and the runner. */
export const pluginSteps = [
  { pointer: '/dataset', kind: 'dataset', list: false },
  { pointer: '/teacher', kind: 'teacher', list: false },
  { pointer: '/prompt', kind: 'prompt', list: false },
  { pointer: '/parser', kind: 'parser', list: false },
  { pointer: '/samplers', kind: 'sampler', list: true },
  { pointer: '/trainer', kind: 'trainer', list: false },
  { pointer: '/loss', kind: 'loss-weight', list: false },
  { pointer: '/evaluators', kind: 'evaluator', list: true },
  { pointer: '/export', kind: 'exporter', list: false },
] as const;
