import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isUserError } from '../../../../core/errors/user-error.js';
import type { TrainRequest } from '../../../../core/plugins/kinds/trainer.js';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { sampleItemsFromRecords, trainingExamplesFromItems } from '../../../../core/training/training-data.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { sharedDataMissing, testPath } from '../../../support/paths.js';
import { esnliTeacherRecords, esnliTestExamples } from './esnli-teacher-records.js';
import { assertSameCurve, type MetricsLine, readMetrics, runTrainer, smallT5Config } from './trainer-runs.js';

const options: TorchTrainerOptions = {
  batch_size: 16,
  max_steps: 30,
  learning_rate: 3e-3,
  warmup_steps: 5,
  eval_every: 15,
  checkpoint_every: 10,
  eval_batch_size: 64,
  generation_max_tokens: 4,
  threads: 1,
};

const plantPickle = testPath('plugins', 'trainers', 'torch', 'fixtures', 'plant-pickle-checkpoint.py');

/** An uninterrupted run, and a folder cancelled part-way that holds `checkpoints/last` and `checkpoints/previous`. */
interface Prepared {
  readonly base: Omit<TrainRequest, 'outputDirectory' | 'resume'>;
  readonly reference: MetricsLine[];
  readonly referenceTestAccuracy: number;
  readonly cancelled: string;
  readonly lastStep: number;
  readonly previousStep: number;
}

const scratch = mkdtemp(path.join(tmpdir(), 'distill-damaged-checkpoint-'));
after(async () => rm(await scratch, { recursive: true, force: true }));
let prepared: Promise<Prepared> | undefined;

async function checkpointStep(output: string, name: string): Promise<number> {
  return (JSON.parse(await readFile(path.join(output, 'checkpoints', name, 'position.json'), 'utf8')) as { step: number }).step;
}

/** Trains once uninterrupted and once cancelled after step 12 (shared by the tests of this file). */
function prepare(): Promise<Prepared> {
  prepared ??= (async () => {
    const records = await esnliTeacherRecords(200);
    const base = {
      train: trainingExamplesFromItems(sampleItemsFromRecords(records.slice(0, 160), 'neutral')),
      validation: trainingExamplesFromItems(sampleItemsFromRecords(records.slice(160), 'neutral')).map((example) => ({
        ...example,
        rationale: '',
      })),
      test: await esnliTestExamples(20),
      // Dropout on: a resume that lost the random state would show in the curve.
      student: {
        size: 'custom',
        config: smallT5Config,
        tokenizer: { type: 'unigram' as const, vocab_size: 400 },
        max_input_length: 64,
        max_target_length: 32,
      },
      alpha: { start: 0.8, end: 0.3 },
      metric: 'exact-match',
      seed: 5,
    };
    const uninterrupted = path.join(await scratch, 'uninterrupted');
    const reference = await runTrainer(options, { ...base, outputDirectory: uninterrupted, resume: false });
    assert.equal(reference.error, null, String(reference.error));
    const cancelled = path.join(await scratch, 'cancelled');
    const run = await runTrainer(options, { ...base, outputDirectory: cancelled, resume: false }, (event, controller) => {
      if (event.type === 'train.progress' && event.step === 12) controller.abort(new Error('stopped by the test'));
    });
    assert.match(String(run.error), /stopped by the test/);
    const lastStep = await checkpointStep(cancelled, 'last');
    const previousStep = await checkpointStep(cancelled, 'previous');
    assert.ok(previousStep < lastStep && previousStep % 10 === 0, `last at step ${lastStep}, previous at ${previousStep}`);
    return {
      base,
      reference: await readMetrics(uninterrupted),
      referenceTestAccuracy: reference.result!.testAccuracy,
      cancelled,
      lastStep,
      previousStep,
    };
  })();
  return prepared;
}

/** A copy of the cancelled run's folder, to damage. */
async function copyOfCancelled(name: string): Promise<{ output: string; last: string; previous: string }> {
  const { cancelled } = await prepare();
  const output = path.join(await scratch, name);
  await cp(cancelled, output, { recursive: true });
  return { output, last: path.join(output, 'checkpoints', 'last'), previous: path.join(output, 'checkpoints', 'previous') };
}

test(
  'a truncated last checkpoint: the run resumes from the previous one, says so naming the file and --restart, and ends as an uninterrupted run',
  { skip: sharedDataMissing(), timeout: 300_000 },
  async () => {
    const { base, reference, referenceTestAccuracy, previousStep } = await prepare();
    const { output, last, previous } = await copyOfCancelled('truncated');
    const damagedFile = path.join(last, 'training-state.pt');
    await truncate(damagedFile, Math.floor((await stat(damagedFile)).size / 2));

    const run = await runTrainer(options, { ...base, outputDirectory: output, resume: true });
    assert.equal(run.error, null, String(run.error));
    const damaged = run.seen.find((event) => event.type === 'train.checkpoint_damaged');
    assert.ok(damaged, 'a checkpoint_damaged event');
    assert.equal(damaged.path, damagedFile);
    assert.match(String(damaged.reason), /bytes where \d+ were written: truncated/);
    assert.equal(damaged.resumed_from, previous);
    assert.equal(damaged.step, previousStep);
    assert.equal(run.seen.find((event) => event.type === 'train.started')?.resumed_from_step, previousStep);
    const warning = run.logger.lines.find((line) => line.level === 'warn' && line.message.includes(damagedFile));
    assert.ok(warning, `a warning naming ${damagedFile}; logged: ${JSON.stringify(run.logger.lines)}`);
    assert.match(
      warning.message,
      /is damaged .*resuming from .*previous \(step \d+\); `distill train --restart` trains this stage from scratch/,
    );

    // The state in `previous` is complete: the run from there is the uninterrupted run, step for step.
    assertSameCurve(await readMetrics(output), reference, 30);
    assert.equal(run.result?.testAccuracy, referenceTestAccuracy);
    // The damaged checkpoint was put aside at the first save, not rotated into `previous`.
    assert.ok(existsSync(path.join(output, 'checkpoints', 'damaged', 'training-state.pt')));
    assert.equal(await checkpointStep(output, 'last'), 30);
    assert.equal(await checkpointStep(output, 'previous'), 20);
  },
);

test(
  'a planted pickle as the last checkpoint, with a matching checksum, never runs: the run falls back to the previous one',
  { skip: sharedDataMissing(), timeout: 300_000 },
  async () => {
    const { base, previousStep } = await prepare();
    const { output, last, previous } = await copyOfCancelled('planted');
    const marker = path.join(await scratch, 'planted-pickle-ran');
    execFileSync(defaultVirtualenvPython, [plantPickle, last, marker]);
    // The payload is live: unpickled the ordinary way, it leaves its marker.
    const proof = path.join(await scratch, 'proof.pt');
    await copyFile(path.join(last, 'training-state.pt'), proof);
    execFileSync(defaultVirtualenvPython, ['-c', 'import sys, torch; torch.load(sys.argv[1], weights_only=False)', proof]);
    assert.ok(existsSync(marker), 'the planted pickle creates its marker when unpickled');
    await rm(marker);

    const run = await runTrainer(options, { ...base, outputDirectory: output, resume: true });
    assert.equal(run.error, null, String(run.error));
    assert.ok(!existsSync(marker), 'the planted pickle did not run');
    const damaged = run.seen.find((event) => event.type === 'train.checkpoint_damaged');
    assert.ok(damaged, 'a checkpoint_damaged event');
    assert.equal(damaged.path, path.join(last, 'training-state.pt'));
    assert.match(String(damaged.reason), /cannot be loaded as plain tensors and values: its pickle asks for (io|builtins)\.open/);
    assert.equal(damaged.resumed_from, previous);
    assert.equal(run.seen.find((event) => event.type === 'train.started')?.resumed_from_step, previousStep);
    assert.equal(run.result?.steps, 30);
  },
);

test(
  'with no sound checkpoint left the stage fails with a UserError naming the file and --restart, and the pickle never runs',
  { skip: sharedDataMissing(), timeout: 300_000 },
  async () => {
    const { base } = await prepare();
    const { output, last, previous } = await copyOfCancelled('nothing-left');
    await rm(previous, { recursive: true });
    const marker = path.join(await scratch, 'lone-pickle-ran');
    execFileSync(defaultVirtualenvPython, [plantPickle, last, marker]);

    const run = await runTrainer(options, { ...base, outputDirectory: output, resume: true });
    assert.ok(isUserError(run.error), String(run.error));
    assert.match(
      run.error.message,
      /no sound checkpoint to resume from: .*last\/training-state\.pt is damaged \(cannot be loaded as plain tensors and values/,
    );
    assert.ok(run.error.message.includes(path.join(last, 'training-state.pt')));
    assert.doesNotMatch(run.error.message, /Traceback/);
    assert.match(run.error.problems[0]!.fix ?? '', /`distill train --restart` trains this stage from scratch/);
    assert.ok(!existsSync(marker), 'the planted pickle did not run');
    assert.equal(
      run.seen.find((event) => event.type === 'train.started'),
      undefined,
      'no training started',
    );
  },
);
