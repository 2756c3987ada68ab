import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Trainer, TrainRequest, TrainResult } from '../../../../core/plugins/kinds/trainer.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { MemoryLogger } from '../../../../core/services/logger.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import { testDependencies } from '../../../support/test-dependencies.js';

/** The smallest from-scratch student the worker trains: one layer each side, d_model 16, a BPE tokenizer of 120 pieces. */
export const tinyScratchStudent = {
  size: 'custom',
  config: { d_model: 16, d_ff: 32, d_kv: 4, num_heads: 4, num_layers: 1, num_decoder_layers: 1 },
  tokenizer: { type: 'bpe', vocab_size: 120 },
  max_input_length: 32,
  max_target_length: 16,
} as const;

/** A small T5 with dropout on (a resume that lost the random state shows in the loss curve at once): one layer each side, d_model 32. */
export const smallT5Config = {
  d_model: 32,
  d_ff: 64,
  d_kv: 8,
  num_heads: 4,
  num_layers: 1,
  num_decoder_layers: 1,
  dropout_rate: 0.1,
} as const;

/**
 * A tiny from-scratch causal-LM (Llama) student: hidden 48, 2 layers, 4 heads over 2 key-value heads,
 * a BPE tokenizer of 600 pieces trained on the prompts and targets.
 */
export const tinyCausalStudent = {
  family: 'causal-lm',
  config: { hidden_size: 48, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 },
  tokenizer: { type: 'bpe', vocab_size: 600 },
  max_input_length: 64,
  max_target_length: 32,
} as const;

/** What one run of the real torch trainer did: its result or error, every event, and the lines it logged. */
export interface TrainerRun {
  readonly result: TrainResult | null;
  readonly error: unknown;
  readonly seen: DistillEvent[];
  readonly logger: MemoryLogger;
}

/** Runs the torch trainer on `request`, calling `interrupt` on each event (it may kill or abort the worker). */
export async function runTrainer(
  options: TorchTrainerOptions,
  request: TrainRequest,
  interrupt?: (event: DistillEvent, controller: AbortController) => void,
): Promise<TrainerRun> {
  const events = new LocalEventStream();
  const logger = new MemoryLogger();
  const controller = new AbortController();
  const seen: DistillEvent[] = [];
  events.subscribe((event) => {
    seen.push(event);
    interrupt?.(event, controller);
  });
  const trainer: Trainer = await torchTrainer.create(options, testDependencies({ events, logger, environment: process.env }));
  const outcome = await trainer.train(request, events, controller.signal).then(
    (result) => ({ result, error: null }),
    (error: unknown) => ({ result: null, error }),
  );
  return { ...outcome, seen, logger };
}

/** One line of a run's metrics.jsonl. */
export interface MetricsLine {
  readonly type: string;
  readonly step: number;
  readonly loss?: number;
  readonly label_loss?: number;
  readonly rationale_loss?: number;
  readonly learning_rate?: number;
  readonly accuracy?: number;
  readonly split?: string;
}

/** The metrics.jsonl a run wrote into `directory`. */
export async function readMetrics(directory: string): Promise<MetricsLine[]> {
  const text = await readFile(path.join(directory, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as MetricsLine);
}

/**
 * Asserts that an interrupted and resumed run wrote the loss curve of an uninterrupted one: one
 * progress line per step from 1 to `steps`, none lost or repeated, each loss and learning rate
 * within 1e-5 (relative), and the same validation and test accuracies at the same steps.
 */
export function assertSameCurve(actual: readonly MetricsLine[], expected: readonly MetricsLine[], steps: number): void {
  const progress = (lines: readonly MetricsLine[]) => lines.filter((line) => line.type === 'progress');
  assert.deepEqual(
    progress(actual).map((line) => line.step),
    Array.from({ length: steps }, (_, index) => index + 1),
    'one line per step, none lost or repeated',
  );
  for (const [index, line] of progress(expected).entries()) {
    const other = progress(actual)[index]!;
    for (const key of ['loss', 'label_loss', 'rationale_loss', 'learning_rate'] as const) {
      const difference = Math.abs((line[key] ?? 0) - (other[key] ?? 0));
      assert.ok(
        difference <= 1e-5 * Math.max(1, Math.abs(line[key] ?? 0)),
        `step ${line.step} ${key}: ${line[key]} uninterrupted, ${other[key]} resumed`,
      );
    }
  }
  const evaluations = (lines: readonly MetricsLine[]) =>
    lines.filter((line) => line.type === 'evaluation').map((line) => [line.split, line.step, line.accuracy]);
  assert.deepEqual(evaluations(actual), evaluations(expected), 'the same validation and test accuracies');
}

/** The mean of `key` over the first and the last five progress lines. */
function firstAndLast(lines: readonly MetricsLine[], key: 'label_loss' | 'rationale_loss'): [number, number] {
  const values = lines.filter((line) => line.type === 'progress').map((line) => line[key]!);
  const mean = (part: number[]) => part.reduce((sum, value) => sum + value, 0) / part.length;
  return [mean(values.slice(0, 5)), mean(values.slice(-5))];
}

/** Asserts that `key`'s mean over the last five steps is below `factor` × its mean over the first five. */
export function assertFalls(lines: readonly MetricsLine[], key: 'label_loss' | 'rationale_loss', factor: number): void {
  const [first, last] = firstAndLast(lines, key);
  assert.ok(last < first * factor, `${key} fell from ${first.toFixed(3)} to ${last.toFixed(3)} (needed below ×${factor})`);
}
