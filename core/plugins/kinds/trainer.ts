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
  /** Multiplies this example's loss (see `LossWeight.exampleWeight`); absent means 1. */
  readonly weight?: number;
}

/** Text put around a task's input in a causal-LM student's prompt. */
export interface PromptAffixes {
  /** Before the input (default empty). */
  readonly prefix?: string;
  /** After the input (default `"\nAnswer:"` for predict, `"\nExplanation:"` for explain). */
  readonly suffix?: string;
}

/** How a causal-LM student's prompt is built (docs/decoder-students.md). */
export interface PromptSpecification {
  /** `plain`: prefix + input + suffix as is (default); `chat`: that text as the user message of the model's chat template. */
  readonly format?: 'plain' | 'chat';
  /** Around the input of the label task. */
  readonly predict?: PromptAffixes;
  /** Around the input of the rationale task. */
  readonly explain?: PromptAffixes;
  /** Text before every target, tokenised with it (default `" "`). */
  readonly target_prefix?: string;
}

/** LoRA adapters trained instead of all weights; merged into every model folder written. */
export interface LoraSpecification {
  /** Rank of the adapters (default 8). */
  readonly rank?: number;
  /** Scaling alpha (default 16). */
  readonly alpha?: number;
  /** Dropout on the adapters' input (default 0.05). */
  readonly dropout?: number;
  /** Layers that get adapters (`q_proj`, `v_proj`, …); absent: peft's default for the architecture. */
  readonly target_modules?: readonly string[];
}

/** Which student to train (the pipeline's `student` block). */
export interface StudentSpecification {
  /**
   * `t5` (seq2seq) or `causal-lm` (Llama, Qwen2, Qwen3, Gemma 3). Absent: inferred from a pretrained model's
   * `model_type`, else `t5`; one that contradicts the pretrained model is an error.
   */
  readonly family?: 't5' | 'causal-lm';
  /**
   * Where to start from: a local Hugging Face folder, a hub id, a `*.gguf` file, or
   * `package:<python package>/<file>` (a file inside an installed Python package, found without importing it).
   */
  readonly pretrained?: string;
  /** Named t5-v1_1 size to initialise a T5 from scratch (`t5-v1_1-small`, …), `tiny` or `custom`. */
  readonly size?: string;
  /**
   * Dimensions of a from-scratch student: T5 keys (`d_model`, `num_layers`, …) for family `t5`, Llama keys
   * (`hidden_size`, `intermediate_size`, `num_hidden_layers`, `num_attention_heads`, `num_key_value_heads`)
   * for family `causal-lm`.
   */
  readonly config?: Readonly<Record<string, number>>;
  /** Tokenizer for from-scratch training. */
  readonly tokenizer?: { readonly type: 'unigram' | 'bpe'; readonly vocab_size: number };
  /** Prompt of a causal-LM student (causal-lm only). */
  readonly prompt?: PromptSpecification;
  /** Layout of a causal-LM student's targets (default `two-tasks`; causal-lm only). */
  readonly targets?: 'two-tasks' | 'label-then-rationale';
  /** Text between label and rationale with `label-then-rationale` (default `"\nExplanation:"`). */
  readonly rationale_separator?: string;
  /** LoRA adapters; absent: full finetuning. */
  readonly lora?: LoraSpecification;
  /** Longest prompt in tokens (a causal-LM prompt is cut in its input, keeping the task suffix). */
  readonly max_input_length: number;
  /** Longest target in tokens. */
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
  /** Test examples behind `testAccuracy`, where the trainer scored fewer than it was given (a test limit). */
  readonly testExamples?: number;
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
