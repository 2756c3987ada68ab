import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../../../core/plugins/kinds/dataset.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { runTrainStage } from '../../../../core/training/train-stage.js';
import { labelSourceSampler } from '../../../../plugins/samplers/label-source/label-source-sampler.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { asyncValues } from '../../../support/async-values.js';
import { sharedDataMissing } from '../../../support/paths.js';
import { esnliTeacherRecords, esnliTestExamples } from './esnli-teacher-records.js';
import { testDependencies } from '../../../support/test-dependencies.js';

const testSize = 600;

/** The examples of the test split, the only one the train stage may read here. */
function* testSplit(examples: readonly { id: string; input: string; label: string }[], split: string): Generator<DatasetExample> {
  assert.equal(split, 'test', 'validation comes from the teacher records');
  for (const example of examples) yield { id: example.id, split, fields: { input: example.input }, goldLabel: example.label };
}

/** e-SNLI `test` as a dataset: the train stage reads the test split through the Dataset contract. */
async function esnliTestDataset(): Promise<Dataset> {
  const examples = await esnliTestExamples(testSize);
  return {
    splits: ['valid', 'test'],
    fields: ['premise', 'hypothesis'],
    labels: ['entailment', 'neutral', 'contradiction'],
    read: (split) => asyncValues(testSplit(examples, split)),
    studentInput: (example) => String(example.fields.input),
    sourceFiles: () => [],
  };
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

test(
  'a tiny T5 trained on e-SNLI valid with PaLM rationales lowers both losses and beats the majority class on test',
  { skip: sharedDataMissing(), timeout: 600_000 },
  async () => {
    const started = Date.now();
    const events = new LocalEventStream();
    const seen: DistillEvent[] = [];
    events.subscribe((event) => seen.push(event));
    const options: TorchTrainerOptions = {
      batch_size: 32,
      max_steps: 1000,
      learning_rate: 3e-3,
      warmup_steps: 50,
      schedule: 'linear',
      eval_every: 250,
      checkpoint_every: 500,
      eval_limit: 300,
      generation_max_tokens: 4,
      log_every: 5,
    };
    const trainer = await torchTrainer.create(options, testDependencies({ events, environment: process.env }));
    const output = await mkdtemp(path.join(tmpdir(), 'distill-esnli-'));
    const result = await runTrainStage({
      records: await esnliTeacherRecords(9842),
      dataset: await esnliTestDataset(),
      // The test split as the dataset stage stores it.
      test: (await esnliTestExamples(testSize)).map(({ id, input, label }) => ({ id, input, label })),
      datasetStep: { splits: { train: 'valid', test: 'test' }, validation_fraction: 0.1, limit: { test: testSize } },
      samplers: [await labelSourceSampler.create({ source: 'gold' }, testDependencies({ events, environment: process.env }))],
      trainer,
      trainerStep: { use: 'torch', options: { ...options } },
      student: {
        size: 'custom',
        config: { d_model: 64, d_ff: 256, d_kv: 16, num_heads: 4, num_layers: 2, num_decoder_layers: 2, dropout_rate: 0 },
        tokenizer: { type: 'unigram', vocab_size: 2000 },
        max_input_length: 64,
        max_target_length: 32,
      },
      alpha: { start: 0.5, end: 0.5 },
      metric: 'exact-match',
      seed: 42,
      outputDirectory: output,
      events,
      signal: new AbortController().signal,
    });
    const seconds = (Date.now() - started) / 1000;

    // The builder: about 10% held out for validation, test read from the dataset, most examples with a PaLM rationale.
    assert.ok(result.data.validation > 900 && result.data.validation < 1100, `validation ${result.data.validation}`);
    assert.equal(result.data.test, testSize);
    assert.ok(
      result.data.withRationale > result.data.examples * 0.9,
      `${result.data.withRationale} of ${result.data.examples} with a rationale`,
    );
    assert.equal(result.status, 'completed');
    assert.equal(result.steps, 1000);
    // `bf16: auto` (the default): bf16 training steps exactly where this CPU multiplies bf16 natively.
    const capabilities = seen.find((event) => event.type === 'train.handshake')!.capabilities as Record<string, unknown>;
    assert.equal(typeof capabilities.cpu_bf16_supported, 'boolean');
    assert.equal(seen.find((event) => event.type === 'train.started')!.bf16, capabilities.cpu_bf16_supported);
    // `spinning: auto` (the default): spinning or sleeping by the load the worker saw at start, and it says which and why.
    const startedEvent = seen.find((event) => event.type === 'train.started')!;
    if (process.env.OMP_WAIT_POLICY)
      assert.deepEqual(
        [startedEvent.omp_wait_policy, startedEvent.wait_policy],
        [process.env.OMP_WAIT_POLICY.toUpperCase(), '$OMP_WAIT_POLICY'],
      );
    else if (startedEvent.omp_wait_policy === 'ACTIVE')
      assert.match(String(startedEvent.wait_policy), /^auto: [\d.]+ of \d+ cores busy at start, so idle threads spin \(30000 rounds\)$/);
    else
      assert.match(
        String(startedEvent.wait_policy),
        /^auto: (one thread|[\d.]+ of \d+ cores busy at start, so idle threads sleep|the machine's CPU load is unknown)/,
      );

    const progress = seen.filter((event) => event.type === 'train.progress');
    const first = progress.slice(0, 2);
    const last = progress.slice(-10);
    const labelBefore = mean(first.map((event) => event.label_loss as number));
    const labelAfter = mean(last.map((event) => event.label_loss as number));
    const rationaleBefore = mean(first.map((event) => event.rationale_loss as number));
    const rationaleAfter = mean(last.map((event) => event.rationale_loss as number));
    assert.ok(labelAfter < labelBefore * 0.6, `label loss ${labelBefore.toFixed(3)} → ${labelAfter.toFixed(3)}`);
    assert.ok(rationaleAfter < rationaleBefore * 0.6, `rationale loss ${rationaleBefore.toFixed(3)} → ${rationaleAfter.toFixed(3)}`);

    // Selection on validation, never on test: the chosen step has the best validation accuracy, test is scored once.
    const validations = seen.filter((event) => event.type === 'train.evaluation' && event.split === 'validation');
    assert.deepEqual(
      validations.map((event) => event.step),
      [250, 500, 750, 1000],
    );
    const best = Math.max(...validations.map((event) => event.accuracy as number));
    assert.equal(result.validationAccuracy, best);
    assert.equal(result.bestStep, validations.find((event) => event.accuracy === best)!.step);
    const tests = seen.filter((event) => event.type === 'train.evaluation' && event.split === 'test');
    assert.equal(tests.length, 1);
    assert.equal(tests[0]!.step, result.bestStep);

    const testLabels = (await esnliTestExamples(testSize)).map((example) => example.label);
    const majority =
      Math.max(...['entailment', 'neutral', 'contradiction'].map((label) => testLabels.filter((each) => each === label).length)) / testSize;
    assert.ok(result.testAccuracy > majority + 0.03, `test accuracy ${result.testAccuracy} against majority class ${majority.toFixed(3)}`);

    // The chosen checkpoint is a Hugging Face folder that AutoTokenizer and transformers.js can load.
    for (const file of [
      'config.json',
      'model.safetensors',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'special_tokens_map.json',
    ]) {
      assert.ok(existsSync(path.join(result.checkpointDirectory, file)), `${file} in the chosen checkpoint`);
    }
    const tokenizer = JSON.parse(await readFile(path.join(result.checkpointDirectory, 'tokenizer.json'), 'utf8')) as {
      added_tokens: { id: number; content: string }[];
    };
    assert.deepEqual(
      tokenizer.added_tokens.map((token) => [token.id, token.content]),
      [
        [0, '<pad>'],
        [1, '</s>'],
        [2, '<unk>'],
        // The closed label set, one token per label (after the 2,000 trained pieces).
        [2000, 'contradiction'],
        [2001, 'entailment'],
        [2002, 'neutral'],
      ],
    );
    const metrics = JSON.parse(await readFile(path.join(result.checkpointDirectory, 'distill-metrics.json'), 'utf8')) as Record<
      string,
      number
    >;
    assert.equal(metrics.test_accuracy, result.testAccuracy);

    const tokensPerSecond = mean(progress.slice(-10).map((event) => event.tokens_per_second as number));
    console.log(
      `e-SNLI: ${seconds.toFixed(1)} s; label loss ${labelBefore.toFixed(3)} → ${labelAfter.toFixed(3)}, rationale loss ${rationaleBefore.toFixed(3)} → ${rationaleAfter.toFixed(3)}; ` +
        `validation ${validations.map((event) => (event.accuracy as number).toFixed(3)).join(' ')}; test ${result.testAccuracy.toFixed(3)} (majority ${majority.toFixed(3)}, step ${result.bestStep}); ${Math.round(tokensPerSecond)} tokens/s`,
    );
  },
);
