import type { JsonSchema } from '../../../core/plugins/json-schema.js';

/** Options of the `torch` trainer (YAML keys, snake_case). */
export interface TorchTrainerOptions {
  /** Python interpreter; default `$DISTILL_PYTHON`, then the project virtualenv. */
  readonly python?: string;
  readonly device?: 'auto' | 'cpu' | 'cuda';
  /** Processes (GPUs); more than 1 launches the worker under torchrun (DDP). */
  readonly devices?: number;
  readonly batch_size?: number;
  readonly gradient_accumulation?: number;
  readonly learning_rate?: number;
  readonly weight_decay?: number;
  readonly max_steps?: number;
  readonly epochs?: number;
  readonly warmup_steps?: number;
  readonly schedule?: 'linear' | 'cosine' | 'constant';
  readonly max_grad_norm?: number;
  readonly eval_every?: number;
  readonly checkpoint_every?: number;
  readonly patience?: number;
  readonly eval_limit?: number;
  /** Score the trainer's own final test on the first N test examples only (absent: all). */
  readonly test_limit?: number;
  readonly eval_batch_size?: number;
  readonly generation_max_tokens?: number;
  readonly threads?: number;
  /** Let idle OpenMP threads spin (`OMP_WAIT_POLICY=ACTIVE`) or sleep; default `auto`: spin, bounded, when the machine is idle at start. */
  readonly spinning?: boolean | 'auto';
  readonly bf16?: boolean | 'auto';
  readonly task_passes?: 'joint' | 'separate';
  /** T5 students: pack several examples into each row, block-diagonal attention keeping them apart; default true (causal LMs: off). */
  readonly packing?: boolean;
  /** T5 students: the activation and (on a CPU) the dropout and attention in faster kernels computing the same functions; default true. */
  readonly fused_kernels?: boolean;
  /** T5 students on a CPU with two or more threads: run the `predict:` and `explain:` passes at once, each on its share of the threads; default true. */
  readonly parallel_task_passes?: boolean;
  /** Pad each batch's rows to a width that is a multiple of this; default 8 (1: no rounding). */
  readonly pad_to_multiple_of?: number;
  readonly bucket_batches?: number;
  readonly log_every?: number;
  readonly handshake_timeout_s?: number;
  readonly cancel_grace_s?: number;
}

/** Options that stay on the TypeScript side; every other option goes to the worker as is. */
export const clientOnlyOptions: readonly string[] = ['python', 'handshake_timeout_s', 'cancel_grace_s'];

const positiveInteger = { type: 'integer', minimum: 1 } as const;

/**
 * Each option's JSON Schema: the one declaration of the trainer's options. The worker declares none
 * of its own; it checks what it is sent against {@link workerOptionsSchema}, which travels in every
 * request, and takes its defaults from there.
 */
const optionProperties: Readonly<Record<string, JsonSchema>> = {
  python: {
    type: 'string',
    minLength: 1,
    description: 'Python interpreter with torch and transformers (default: $DISTILL_PYTHON, then .venv).',
  },
  device: { enum: ['auto', 'cpu', 'cuda'], default: 'auto', description: 'auto: CUDA when available, else CPU.' },
  devices: { ...positiveInteger, default: 1, description: 'Processes (one per GPU); more than 1 runs DDP under torchrun.' },
  batch_size: { ...positiveInteger, default: 16, description: 'Examples per micro-batch (each gives a predict and an explain row).' },
  gradient_accumulation: { ...positiveInteger, default: 1, description: 'Micro-batches per optimizer step.' },
  learning_rate: { type: 'number', exclusiveMinimum: 0, default: 5e-4, description: 'AdamW peak learning rate.' },
  weight_decay: { type: 'number', minimum: 0, default: 0, description: 'AdamW weight decay.' },
  max_steps: { ...positiveInteger, description: 'Optimizer steps; overrides `epochs`.' },
  epochs: { type: 'number', exclusiveMinimum: 0, description: 'Passes over the training data when `max_steps` is absent (default 1).' },
  warmup_steps: { type: 'integer', minimum: 0, default: 0, description: 'Linear warm-up steps.' },
  schedule: { enum: ['linear', 'cosine', 'constant'], default: 'linear', description: 'Learning-rate decay after warm-up.' },
  max_grad_norm: { type: 'number', minimum: 0, default: 1, description: 'Gradient clipping norm; 0 turns clipping off.' },
  eval_every: { ...positiveInteger, default: 250, description: 'Validate every N steps (and at the last step).' },
  checkpoint_every: { ...positiveInteger, default: 250, description: 'Write a resumable checkpoint every N steps.' },
  patience: { ...positiveInteger, description: 'Stop after N validations without improvement.' },
  eval_limit: { ...positiveInteger, description: 'Validate on the first N validation examples only.' },
  test_limit: {
    ...positiveInteger,
    description:
      "Score the trainer's own final test on the first N test examples only (the evaluate stage scores the exported model on the whole split).",
  },
  eval_batch_size: { ...positiveInteger, default: 64, description: 'Examples per generation batch.' },
  generation_max_tokens: { ...positiveInteger, default: 64, description: 'Longest generated label.' },
  threads: {
    ...positiveInteger,
    description:
      "torch CPU threads. Default: $OMP_NUM_THREADS when set, else torch's own choice (one per physical core), except 1 for a student of width (d_model or hidden_size) up to 128 whose threads sleep (`spinning`) and whose task passes run one at a time (`parallel_task_passes`), where a second thread costs more than it brings. The `started` event says which (`thread_policy`).",
  },
  spinning: {
    oneOf: [{ type: 'boolean' }, { const: 'auto' }],
    default: 'auto',
    description:
      "CPU: let idle OpenMP threads spin between operators (true, OMP_WAIT_POLICY=ACTIVE) or sleep (false). Measured at 2 threads: spinning steps 1.4-1.5x faster when the cores are the trainer's alone, 1.6-4x slower next to another busy process. `auto` spins, bounded to 30,000 rounds (GOMP_SPINCOUNT), when the cores the run will use are idle at start, and sleeps otherwise; load that arrives later is not seen, so a run sharing its machine on purpose sets false. The `started` event says which and why (`wait_policy`). $OMP_WAIT_POLICY, when set, wins.",
  },
  bf16: {
    oneOf: [{ type: 'boolean' }, { const: 'auto' }],
    default: 'auto',
    description:
      'bf16 autocast for training steps; auto: where the device multiplies bf16 natively (a CUDA GPU with bf16, a CPU with AVX512-BF16 or AMX). CPU evaluation stays fp32.',
  },
  task_passes: {
    enum: ['joint', 'separate'],
    default: 'separate',
    description: 'One forward pass per task (measured 15-20% faster on CPU at d_model 64-128), or one pass over both tasks.',
  },
  // No schema default: unset means on for a T5 student and off for a causal LM, for which an explicit
  // `true` is refused (the loader fills schema defaults in, which would make every causal LM ask for it).
  packing: {
    type: 'boolean',
    description:
      'T5 students: pack several examples into each row (inputs and targets), with block-diagonal attention masks so that no example sees another, and run the output layer on real target tokens only. Same losses as unpacked rows (up to float rounding); measured 1.01-1.30x the steps/s of unpacked rows at d_model 256, batch 16-32, on one and two threads of two machines (BENCHMARKS.md, docs/trainer-protocol.md). Unset: on for T5 students, off for causal-LM students (for which true is an error).',
  },
  fused_kernels: {
    type: 'boolean',
    default: true,
    description:
      "T5 students: the tanh GELU in one kernel instead of transformers' seven operations, and on a CPU a dropout whose mask comes from 16-bit shares of 64-bit random words instead of torch's bernoulli_, which draws one element at a time; the drop probability is rounded to a multiple of 2^-16; on a CPU transformers' eager attention with that dropout on the attention weights instead of its sdpa path, which there falls back to a reference kernel; under autocast, feed-forward blocks without transformers' fp32 round trip before their output layer; and on a CPU in one process, embedding lookups whose gradient is the rows looked up (sparse) instead of a zeroed copy of the whole table. Same functions, fewer passes over the activations (see docs/trainer-protocol.md, \"Fused kernels\"). Causal-LM students are left as they are.",
  },
  parallel_task_passes: {
    type: 'boolean',
    default: true,
    description:
      "T5 students with `fused_kernels`, on a CPU, in one process, with two or more threads, rationales, `task_passes: separate` and no gradient accumulation: run each micro-batch's `predict:` and `explain:` passes at once, each forward and backward on its share of the threads (half each), instead of one after the other on all of them; the optimizer step uses every thread. A small student's operators are too small for a second thread to help much, two passes keep both busy: 1.24x and 1.19x the steps/s at d_model 256, batch 16 and 32, on two threads in the trainer bench (see docs/trainer-protocol.md, \"Parallel task passes\"). Same gradients (each the sum of the two passes'), and a seeded run still repeats itself (the helper thread's dropout has a generator of its own, seeded from the run's); both passes' activations are in memory at once. Where a condition is not met the passes run one after the other; the `started` event says which and why (`task_pass_policy`).",
  },
  pad_to_multiple_of: {
    ...positiveInteger,
    maximum: 512,
    default: 8,
    description:
      'Pad the rows of each batch (packed or not, T5 or causal LM) to a width that is a multiple of this, like the pad_to_multiple_of of Hugging Face\'s collators; the padding is masked and changes no loss. On a CPU, oneDNN builds a matrix kernel for each new shape: rounding the width repeats shapes: 1.02-1.27x the steps/s of unrounded rows at d_model 256, batch 16-32, one and two threads, in four trainer bench runs (see docs/trainer-protocol.md, "Padded widths"). 1 leaves widths as they are.',
  },
  bucket_batches: { ...positiveInteger, default: 50, description: 'Batches per length-sorting window.' },
  log_every: { ...positiveInteger, default: 1, description: 'Report progress every N steps.' },
  handshake_timeout_s: { type: 'number', exclusiveMinimum: 0, default: 300, description: 'Seconds the worker may take to start.' },
  cancel_grace_s: {
    type: 'number',
    exclusiveMinimum: 0,
    default: 120,
    description: 'Seconds a cancelled worker may take to checkpoint before it is killed.',
  },
};

/** JSON Schema of {@link TorchTrainerOptions}. */
export const torchTrainerOptionsSchema: JsonSchema = { type: 'object', additionalProperties: false, properties: optionProperties };

/**
 * The options the worker reads, with their types, ranges and defaults: every option but the
 * {@link clientOnlyOptions}. Sent in every train request as `options_schema`; the worker refuses an
 * unknown or mistyped option against it and fills absent ones from its defaults.
 */
export const workerOptionsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.entries(optionProperties).filter(([name]) => !clientOnlyOptions.includes(name))),
};
