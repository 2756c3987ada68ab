/**
 * The messages of the trainer worker protocol (docs/trainer-protocol.md), as TypeScript types: the
 * envelope every Python program of distill shares (`core/python/program-protocol.ts`) and the
 * worker's own events. Field names are snake_case because they are the wire format the worker writes.
 */
import type { JsonSchema } from '../../../core/plugins/json-schema.js';
import type { ProgramDone, ProgramError, ProgramHello } from '../../../core/python/program-protocol.js';

/**
 * Versions the worker reports (they belong in the run lockfile): `worker` (its own), `python`,
 * `torch`, `transformers`, `tokenizers`, `safetensors`, `sentencepiece`, `numpy`, `gguf`, `accelerate`, `peft`; null for a
 * package that is not installed.
 */
export type WorkerVersions = Readonly<Record<string, string | null>>;

/** What the worker's machine can do. */
export interface WorkerCapabilities {
  readonly cuda_available: boolean;
  readonly device_count: number;
  readonly device_names: readonly string[];
  /** Whether the CUDA device supports bf16. */
  readonly bf16_supported: boolean;
  /** Whether the CPU multiplies bf16 natively (AVX512-BF16 or AMX), where `bf16: auto` trains on a CPU in bf16. */
  readonly cpu_bf16_supported: boolean;
  readonly cpu_count: number;
  readonly threads: number;
}

/** First line the worker writes. */
export interface HelloEvent extends ProgramHello {
  readonly versions: WorkerVersions;
  readonly capabilities: WorkerCapabilities;
}

/** Training is set up: device, sizes, total steps, where a resume started. */
export interface StartedEvent {
  readonly type: 'started';
  readonly device: string;
  readonly world_size: number;
  readonly bf16: boolean;
  readonly threads: number;
  /** Why `threads` is what it is: the `threads` option, `$OMP_NUM_THREADS`, torch's default, or one thread for a narrow student whose threads sleep and whose task passes run in turn. */
  readonly thread_policy: string;
  /** OpenMP's wait policy the worker runs under: `ACTIVE` (spinning) or `PASSIVE` (sleeping). */
  readonly omp_wait_policy: string | null;
  /** Why, in words: the `spinning` option, `$OMP_WAIT_POLICY`, or what `auto` saw of the machine's load at start. */
  readonly wait_policy: string | null;
  /** Whether the rows are packed (`packing`: unset means packed for a T5 student, never for a causal LM). */
  readonly packed_rows: boolean;
  /**
   * What `fused_kernels` changed in a T5 student: GELU and dropout modules replaced, attention modules on the fused
   * attention, feed-forward blocks without the fp32 round trip, embedding modules with sparse gradients; null when the
   * option is off or the student a causal LM.
   */
  readonly fused_kernels: {
    readonly gelu: number;
    readonly dropout: number;
    readonly attention: number;
    readonly feed_forward: number;
    readonly sparse_embeddings: number;
  } | null;
  /** Whether each micro-batch's `predict:` and `explain:` passes run at once (`parallel_task_passes`). */
  readonly parallel_task_passes: boolean;
  /** Why, in words: on with the threads of each pass, or what turned it off. */
  readonly task_pass_policy: string;
  readonly parameters: number;
  readonly vocabulary: number;
  readonly train_examples: number;
  readonly validation_examples: number;
  readonly test_examples: number;
  readonly total_steps: number;
  readonly steps_per_epoch: number;
  readonly resumed_from_step: number | null;
  readonly with_rationale: boolean;
}

/** One optimizer step. Losses are token means; `rationale_loss` is null without rationales. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly step: number;
  readonly total_steps: number;
  readonly epoch: number;
  readonly loss: number;
  readonly label_loss: number;
  readonly rationale_loss: number | null;
  readonly learning_rate: number;
  readonly alpha: number;
  readonly tokens_per_second: number;
  /** Seconds since the worker started training. */
  readonly seconds: number;
  /** Seconds left at this run's pace so far (evaluations included). */
  readonly eta_seconds: number;
}

/** Accuracy of greedy `predict:` generations on a split. */
export interface EvaluationEvent {
  readonly type: 'evaluation';
  readonly split: 'validation' | 'test';
  readonly step: number;
  readonly accuracy: number;
  readonly correct: number;
  readonly examples: number;
}

/** A checkpoint was written: the training state (`periodic`, `cancel`) or the best model (`best`). */
export interface CheckpointEvent {
  readonly type: 'checkpoint';
  readonly step: number;
  readonly path: string;
  readonly reason: 'periodic' | 'cancel' | 'best';
}

/**
 * A checkpoint failed its checks at resume (checksum, size, or it does not load as plain tensors and
 * values, as a planted pickle does not) and an older one was resumed instead.
 */
export interface CheckpointDamagedEvent {
  readonly type: 'checkpoint_damaged';
  /** The damaged file. */
  readonly path: string;
  readonly reason: string;
  /** The checkpoint folder resumed instead. */
  readonly resumed_from: string;
  /** Its step. */
  readonly step: number;
  /** Path, reason and what was resumed, in one sentence. */
  readonly message: string;
}

/** Something the user should know that does not stop training. */
export interface WarningEvent {
  readonly type: 'warning';
  readonly message: string;
}

/** The worker failed (the envelope's `error`): `user`, `output` or `internal`, see {@link ProgramError}. */
export type ErrorEvent = ProgramError;

/** The last line of a run that ended normally or was cancelled cleanly. */
export interface DoneEvent extends ProgramDone {
  readonly type: 'done';
  readonly status: 'completed' | 'early-stopped' | 'cancelled';
  readonly steps: number;
  /** The chosen (best on validation) model folder; null when cancelled. */
  readonly checkpoint: string | null;
  readonly best_step: number | null;
  readonly validation_accuracy: number | null;
  readonly test_accuracy: number | null;
  readonly test_examples?: number;
  readonly metrics_file?: string;
  readonly seconds?: number;
}

/** Every event the worker may write on stdout. */
export type WorkerEvent =
  | HelloEvent
  | StartedEvent
  | ProgressEvent
  | EvaluationEvent
  | CheckpointEvent
  | CheckpointDamagedEvent
  | WarningEvent
  | ErrorEvent
  | DoneEvent;

/** The worker's own event types, besides the envelope's `hello`, `error` and `done`. */
export const workerEventTypes: ReadonlySet<string> = new Set([
  'started',
  'progress',
  'evaluation',
  'checkpoint',
  'checkpoint_damaged',
  'warning',
]);

/** The `train` request's payload (snake_case, as the worker reads it). */
export interface WorkerTrainRequest {
  readonly output_directory: string;
  readonly data: { readonly train: string; readonly validation?: string; readonly test?: string };
  readonly student: Readonly<Record<string, unknown>>;
  readonly alpha: { readonly start: number; readonly end: number };
  readonly metric: string;
  readonly seed: number;
  readonly resume: boolean;
  readonly options: Readonly<Record<string, unknown>>;
  /** The schema the worker checks `options` against and takes defaults from (the plugin's, less its client-only options). */
  readonly options_schema: JsonSchema;
}

/** Requests distill writes on the worker's stdin. */
export type WorkerRequest =
  { readonly type: 'train'; readonly protocol: number; readonly request: WorkerTrainRequest } | { readonly type: 'cancel' };
