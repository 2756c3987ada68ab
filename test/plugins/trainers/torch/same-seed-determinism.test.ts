import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { TrainRequest } from '../../../../core/plugins/kinds/trainer.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { sharedDataMissing } from '../../../support/paths.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { testDependencies } from '../../../support/test-dependencies.js';
import { esnliTeacherRecords, esnliTestExamples } from './esnli-teacher-records.js';
import { tinyCausalStudent, smallT5Config } from './trainer-runs.js';

/**
 * Trains `student` three times with one seed (and `options`); asserts the same tokenizer, loss curve and weights each
 * time. Returns the `train.started` event of each run.
 */
async function sameSeedTest(
  context: TestContext,
  student: TrainRequest['student'],
  options: TorchTrainerOptions = {},
  withRationales = false,
): Promise<DistillEvent[]> {
  // Gold labels only, 500 examples, 1,000 pieces: a setting in which the unigram trainer's hash order gave
  // each process its own tokenizer (the characters it adds back swapped ids), and so its own student.
  const records = await esnliTeacherRecords(500);
  const base: Omit<TrainRequest, 'outputDirectory'> = {
    train: records.map((record) => ({
      id: record.id,
      input: record.student_input,
      label: record.gold_label!,
      rationale: withRationales ? (record.rationale ?? '') : '',
    })),
    validation: [],
    test: await esnliTestExamples(20),
    student,
    alpha: withRationales ? { start: 0.5, end: 0.5 } : { start: 1, end: 1 },
    metric: 'exact-match',
    seed: 1,
    resume: false,
  };
  const runs: { tokenizer: string; losses: number[]; weights: string }[] = [];
  const started: DistillEvent[] = [];
  for (let run = 0; run < 3; run++) {
    const output = temporaryDirectory(context, 'distill-same-seed-');
    const trainer = await torchTrainer.create(
      {
        batch_size: 16,
        max_steps: 5,
        learning_rate: 3e-3,
        warmup_steps: 1,
        eval_every: 5,
        checkpoint_every: 5,
        generation_max_tokens: 2,
        threads: 1,
        log_every: 1,
        ...options,
      },
      testDependencies({ events: new LocalEventStream(), environment: process.env }),
    );
    const events = new LocalEventStream();
    events.subscribe((event) => {
      if (event.type === 'train.started') started.push(event);
    });
    await trainer.train({ ...base, outputDirectory: output }, events, new AbortController().signal);
    const metrics = (await readFile(path.join(output, 'metrics.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; loss?: number });
    runs.push({
      tokenizer: await readFile(path.join(output, 'tokenizer', 'tokenizer.json'), 'utf8'),
      losses: metrics.filter((line) => line.type === 'progress').map((line) => line.loss!),
      weights: createHash('sha256')
        .update(await readFile(path.join(output, 'best', 'model.safetensors')))
        .digest('hex'),
    });
  }
  assert.equal(runs[0]!.losses.length, 5);
  for (const [index, run] of runs.entries()) {
    assert.ok(run.tokenizer === runs[0]!.tokenizer, `run ${index + 1}'s tokenizer.json differs from run 1's`);
    assert.deepEqual(run.losses, runs[0]!.losses, `run ${index + 1}'s losses differ from run 1's`);
    assert.equal(run.weights, runs[0]!.weights, `run ${index + 1}'s trained weights differ from run 1's`);
  }
  return started;
}

const smallT5: TrainRequest['student'] = {
  size: 'custom',
  config: smallT5Config,
  tokenizer: { type: 'unigram', vocab_size: 1000 },
  max_input_length: 64,
  max_target_length: 8,
};

test(
  'two workers given the same seed train the same tokenizer, loss curve and weights (T5, unpacked rows: `packing: false`)',
  { skip: sharedDataMissing(), timeout: 240_000 },
  async (context) => {
    await sameSeedTest(context, smallT5, { packing: false });
  },
);

test(
  'two workers given the same seed train the same T5 on packed rows (`packing: true`, the default): tokenizer, loss curve and weights',
  { skip: sharedDataMissing(), timeout: 240_000 },
  async (context) => {
    await sameSeedTest(context, smallT5, { packing: true });
  },
);

test(
  'two workers given the same seed train the same T5 with both task passes at once (`parallel_task_passes`, two threads, dropout drawn on both)',
  { skip: sharedDataMissing(), timeout: 240_000 },
  async (context) => {
    const started = await sameSeedTest(context, smallT5, { threads: 2 }, true);
    assert.equal(started.length, 3);
    for (const fields of started) {
      assert.equal(fields.parallel_task_passes, true, String(fields.task_pass_policy));
      assert.equal(fields.task_pass_policy, 'on: 1 + 1 threads');
    }
  },
);

test(
  'two workers given the same seed train the same causal-LM student (unigram tokenizer, LoRA dropout): tokenizer, loss curve and weights',
  { skip: sharedDataMissing(), timeout: 240_000 },
  async (context) => {
    await sameSeedTest(context, {
      ...tinyCausalStudent,
      tokenizer: { type: 'unigram', vocab_size: 1000 },
      lora: { rank: 4, alpha: 8, dropout: 0.1, target_modules: ['q_proj', 'v_proj'] },
    });
  },
);
