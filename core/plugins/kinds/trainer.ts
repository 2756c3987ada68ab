import type { EventStream } from '../../services/event-stream.js';
import type { AlphaSchedule } from './loss-weight.js';

/** Version of the {@link Trainer} contract. */
export const trainerContractVersion = 1;

/** One example as the trainer receives it: both tasks are built from it. */
export interface TrainingExample {
  readonly id: string;
  readonly input: string;
  readonly label: string;
  /** Empty string trains toward an empty rationale. */
  readonly rationale: string;
}

/** Which student to train (the pipeline's `student` block). */
export interface StudentSpecification {
  /** Local Hugging Face folder or hub id to start from. */
  readonly pretrained?: string;
  /** Named t5-v1_1 size to initialise from scratch (`t5-v1_1-small`, …) or `custom`. */
  readonly size?: string;
  /** Custom dimensions (`d_model`, `num_layers`, …) when training from scratch. */
  readonly config?: Readonly<Record<string, number>>;
  /** Tokenizer for from-scratch training. */
  readonly tokenizer?: { readonly type: 'unigram' | 'bpe'; readonly vocab_size: number };
  readonly max_input_length: number;
  readonly max_target_length: number;
}

/** Everything a trainer needs for one run. */
export interface TrainRequest {
  /** Folder the trainer owns: checkpoints, logs, chosen model. */
  readonly outputDirectory: string;
  readonly train: readonly TrainingExample[];
  readonly validation: readonly TrainingExample[];
  readonly test: readonly TrainingExample[];
  readonly student: StudentSpecification;
  readonly alpha: AlphaSchedule;
  /** Metric name of the pipeline's first evaluator (`exact-match`, `numeric-equality`). */
  readonly metric: string;
  readonly seed: number;
  /** Continue from the last checkpoint in `outputDirectory` when there is one. */
  readonly resume: boolean;
}

/** Scores of the chosen checkpoint. */
export interface TrainResult {
  /** Folder of the checkpoint chosen on validation, a Hugging Face model folder. */
  readonly checkpointDirectory: string;
  readonly steps: number;
  /** Best validation accuracy; NaN when there was no validation data. */
  readonly validationAccuracy: number;
  /** Test accuracy of the chosen checkpoint; NaN when there was no test data. */
  readonly testAccuracy: number;
  /** How training ended (absent from trainers that do not say). */
  readonly status?: 'completed' | 'early-stopped' | 'cancelled';
  /** Step of the chosen checkpoint. */
  readonly bestStep?: number | null;
  /** Per-step metrics as JSON Lines, for loss curves. */
  readonly metricsFile?: string;
}

/** What a trainer runs with, recorded in the run's lockfile. */
export interface TrainerEnvironment {
  /** Package name → installed version (null: not installed); a Python trainer includes `python`. */
  readonly packages: Readonly<Record<string, string | null>>;
}

/** Trains a student; progress goes to the event stream as `train.*` events. */
export interface Trainer {
  train(request: TrainRequest, events: EventStream, signal: AbortSignal): Promise<TrainResult>;
  /**
   * Reports the environment the trainer trains in (the versions of its packages, for the lockfile),
   * as its own process reports them; rejects when that environment cannot start. Optional, added in
   * contract version 1: the lockfile of a trainer without it records no versions.
   */
  environment?(): Promise<TrainerEnvironment>;
}
