import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { TrainingExample } from '../../../../core/plugins/kinds/trainer.js';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { sampleItemsFromRecords, trainingExamplesFromItems } from '../../../../core/training/training-data.js';
import { workerOptionsSchema } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import { workerMainScript } from '../../../../plugins/trainers/torch/worker-location.js';
import { sharedDataMissing } from '../../../support/paths.js';
import { esnliTeacherRecords } from './esnli-teacher-records.js';
import { testDependencies } from '../../../support/test-dependencies.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { assertFalls, tinyCausalStudent, readMetrics, runTrainer, smallT5Config } from './trainer-runs.js';

const python = process.env.DISTILL_PYTHON ?? defaultVirtualenvPython;

/** CUDA devices the worker's torch sees, or the reason there are none. */
function cudaDevices(): number | string {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (probe.status !== 0) return `cannot probe CUDA with ${python}`;
  return Number(probe.stdout.trim());
}
const devices = cudaDevices();
const noCuda =
  typeof devices === 'string'
    ? devices
    : devices === 0
      ? 'no CUDA device on this machine: the CUDA (bf16) path is tested where one is present'
      : false;
const fewerThanTwo =
  noCuda || (typeof devices === 'number' && devices < 2 ? `only ${devices} CUDA device: torchrun across GPUs needs two` : false);

const student = {
  size: 'custom',
  config: smallT5Config,
  tokenizer: { type: 'bpe' as const, vocab_size: 800 },
  max_input_length: 64,
  max_target_length: 32,
};

async function examples(): Promise<{ train: TrainingExample[]; validation: TrainingExample[] }> {
  const records = await esnliTeacherRecords(700);
  const all = trainingExamplesFromItems(sampleItemsFromRecords(records, 'neutral'));
  return { train: all.slice(0, 640), validation: all.slice(640).map((example) => ({ ...example, rationale: '' })) };
}

/** Runs the worker as a plain Python program on a request file, as on a GPU machine without Node's help. */
async function runPlainWorker(launcher: string[], request: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const directory = request.output_directory as string;
  const requestFile = path.join(directory, 'request.json');
  await writeFile(requestFile, JSON.stringify({ type: 'train', protocol: 1, request }));
  const run = spawnSync(python, [...launcher, workerMainScript, '--request', requestFile], { encoding: 'utf8', timeout: 540_000 });
  assert.equal(run.status, 0, `worker failed:\n${run.stderr.slice(-3000)}`);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function plainRequest(options: Record<string, unknown>) {
  const output = await mkdtemp(path.join(tmpdir(), 'distill-plain-'));
  const data = await examples();
  const write = async (name: string, rows: TrainingExample[]) => {
    const file = path.join(output, `${name}.jsonl`);
    await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    return file;
  };
  return {
    output_directory: output,
    data: { train: await write('train', data.train), validation: await write('validation', data.validation) },
    student,
    alpha: { start: 0.5, end: 0.5 },
    metric: 'exact-match',
    seed: 3,
    resume: false,
    options: {
      batch_size: 16,
      max_steps: 30,
      learning_rate: 3e-3,
      eval_every: 15,
      checkpoint_every: 15,
      generation_max_tokens: 4,
      ...options,
    },
    // What distill writes into every request.json: the schema the worker checks the options against.
    options_schema: workerOptionsSchema,
  };
}

test(
  'the CUDA path: bf16 autocast on a GPU, the worker run as a plain Python program',
  { skip: sharedDataMissing() || noCuda, timeout: 600_000 },
  async () => {
    const lines = await runPlainWorker([], await plainRequest({ device: 'cuda', bf16: 'auto' }));
    const hello = lines.find((line) => line.type === 'hello')!;
    const capabilities = hello.capabilities as Record<string, unknown>;
    assert.equal(capabilities.cuda_available, true);
    const started = lines.find((line) => line.type === 'started')!;
    assert.match(String(started.device), /^cuda/);
    assert.equal(started.bf16, capabilities.bf16_supported, 'bf16 autocast is on exactly where the GPU supports it');
    const progress = lines.filter((line) => line.type === 'progress');
    assert.equal(progress.length, 30);
    assert.ok((progress.at(-1)!.loss as number) < (progress[0]!.loss as number), 'the loss falls under bf16');
    assert.ok(
      progress.every((line) => Number.isFinite(line.loss)),
      'no NaN losses under bf16',
    );
    assert.equal(lines.at(-1)!.type, 'done');
  },
);

test(
  'torchrun across two GPUs: DDP with NCCL, the same code path',
  { skip: sharedDataMissing() || fewerThanTwo, timeout: 600_000 },
  async () => {
    const lines = await runPlainWorker(
      ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2'],
      await plainRequest({ device: 'cuda', devices: 2, gradient_accumulation: 2 }),
    );
    const started = lines.find((line) => line.type === 'started')!;
    assert.equal(started.world_size, 2);
    assert.equal(lines.filter((line) => line.type === 'hello').length, 1, 'only rank 0 speaks');
    assert.equal(lines.filter((line) => line.type === 'progress').length, 30);
    assert.equal(lines.at(-1)!.type, 'done');
  },
);

test(
  'devices: 2 makes the plugin launch torchrun (DDP over gloo on CPU), with resume',
  { skip: sharedDataMissing(), timeout: 600_000 },
  async () => {
    const started = Date.now();
    const events = new LocalEventStream();
    const seen: DistillEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const trainer = await torchTrainer.create(
      {
        device: 'cpu',
        devices: 2,
        threads: 1,
        batch_size: 16,
        gradient_accumulation: 2,
        max_steps: 12,
        learning_rate: 3e-3,
        eval_every: 6,
        checkpoint_every: 6,
        generation_max_tokens: 4,
      },
      testDependencies({ events, environment: process.env }),
    );
    const output = await mkdtemp(path.join(tmpdir(), 'distill-torchrun-'));
    const data = await examples();
    const request = {
      outputDirectory: output,
      ...data,
      test: data.validation.slice(0, 20),
      student,
      alpha: { start: 0.5, end: 0.5 },
      metric: 'exact-match',
      seed: 5,
    };
    const result = await trainer.train({ ...request, resume: false }, events, new AbortController().signal);
    assert.equal(result.steps, 12);
    assert.equal(seen.find((event) => event.type === 'train.started')?.world_size, 2);
    assert.equal(seen.filter((event) => event.type === 'train.handshake').length, 1, 'only rank 0 speaks');
    assert.equal(seen.filter((event) => event.type === 'train.progress').length, 12);
    const savedRequest = JSON.parse(await readFile(path.join(output, 'request.json'), 'utf8')) as {
      request: { options: Record<string, unknown> };
    };
    assert.equal(savedRequest.request.options.devices, 2);
    // A resumed DDP run restores every rank and has nothing left to train.
    const again = await trainer.train({ ...request, resume: true }, events, new AbortController().signal);
    assert.equal(again.steps, 12);
    assert.equal(again.testAccuracy, result.testAccuracy);
    console.log(`torchrun on CPU: ${((Date.now() - started) / 1000).toFixed(1)} s for two runs of 2 ranks`);
  },
);

test(
  "torchrun with a causal-LM student (2 CPU ranks over gloo): the curve of one process accumulating both ranks' batches",
  { skip: sharedDataMissing(), timeout: 600_000 },
  async (context) => {
    const started = Date.now();
    const records = await esnliTeacherRecords(260);
    const all = trainingExamplesFromItems(sampleItemsFromRecords(records, 'neutral'));
    // 192 examples: 12 batches of 16, an even number, so that DDP drops no batch of an epoch.
    const base = {
      train: all.slice(0, 192),
      validation: all.slice(192, 222).map((example) => ({ ...example, rationale: '' })),
      test: all.slice(222, 242).map((example) => ({ ...example, rationale: '' })),
      student: tinyCausalStudent,
      alpha: { start: 0.5, end: 0.5 },
      metric: 'exact-match',
      seed: 7,
      resume: false,
    };
    const common = {
      device: 'cpu',
      threads: 1,
      batch_size: 16,
      max_steps: 30,
      learning_rate: 5e-3,
      warmup_steps: 2,
      eval_every: 15,
      checkpoint_every: 15,
      generation_max_tokens: 4,
    } as const;
    // Rank r takes every second batch, so DDP's step k covers batches 2k and 2k + 1 of the epoch's
    // order: the micro-batches of step k in one process accumulating two. Gradients are averaged over
    // ranks as the accumulation averages them over micro-batches, so the two curves are one.
    const distributedFolder = temporaryDirectory(context, 'distill-torchrun-causal-');
    const distributed = await runTrainer({ ...common, devices: 2 }, { ...base, outputDirectory: distributedFolder });
    assert.equal(distributed.error, null, String(distributed.error));
    const singleFolder = temporaryDirectory(context, 'distill-accumulated-causal-');
    const single = await runTrainer({ ...common, gradient_accumulation: 2 }, { ...base, outputDirectory: singleFolder });
    assert.equal(single.error, null, String(single.error));

    const startedEvent = distributed.seen.find((event) => event.type === 'train.started')!;
    assert.deepEqual([startedEvent.world_size, startedEvent.family, startedEvent.steps_per_epoch], [2, 'causal-lm', 6]);
    assert.equal(single.seen.find((event) => event.type === 'train.started')?.steps_per_epoch, 6);
    const metrics = await readMetrics(distributedFolder);
    assertFalls(metrics, 'label_loss', 0.7);
    assertFalls(metrics, 'rationale_loss', 0.85);
    const progress = (lines: typeof metrics) => lines.filter((line) => line.type === 'progress');
    const reference = progress(await readMetrics(singleFolder));
    assert.equal(progress(metrics).length, 30);
    // Step 1 starts from the same weights on the same two batches: equal but for the float sum of the
    // two halves, so another split of the batches between the ranks shows there at once. After it the
    // all-reduce and the accumulation add the same gradients in another order, and AdamW carries that
    // float noise on (measured: identical to step 3, then up to 4e-4 relative by step 30).
    let largest = 0;
    for (const [index, line] of progress(metrics).entries()) {
      for (const key of ['label_loss', 'rationale_loss'] as const) {
        const expected = reference[index]![key]!;
        const difference = Math.abs(line[key]! - expected) / expected;
        largest = Math.max(largest, difference);
        assert.ok(
          difference <= (line.step === 1 ? 1e-6 : 3e-3),
          `step ${line.step} ${key}: ${line[key]} over 2 ranks, ${expected} in one process accumulating 2 batches`,
        );
      }
    }
    const best = distributed.result!.checkpointDirectory;
    assert.ok(existsSync(path.join(best, 'model.safetensors')) && existsSync(path.join(best, 'distill-student.json')));
    assert.ok(Number.isFinite(distributed.result!.testAccuracy));
    console.log(
      `torchrun causal-LM on CPU: ${((Date.now() - started) / 1000).toFixed(1)} s for a 2-rank run and a 1-process run of 30 steps, losses within ${largest.toExponential(1)} (relative)`,
    );
  },
);
