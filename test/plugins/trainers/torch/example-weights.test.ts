import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { TrainingExample, TrainRequest } from '../../../../core/plugins/kinds/trainer.js';
import { UserError } from '../../../../core/errors/user-error.js';
import { writeExamples } from '../../../../plugins/trainers/torch/torch-trainer-client.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { readMetrics, runTrainer, tinyCausalStudent, tinyScratchStudent } from './trainer-runs.js';
import { runWorkerFixture } from './worker-fixture.js';

type Losses = [number, number, number | null];
interface Comparison {
  alone_gradient_size: number;
  one_weight_vs_alone_gradient: number;
  one_weight_vs_alone_update: number;
  update_size: number;
  unweighted_vs_alone_gradient: number;
  losses: Record<'one_weight' | 'alone' | 'plain' | 'ones' | 'zeros', Losses>;
  ones_vs_plain_gradient: number;
  zeros_gradient: number;
  zeros_finite: boolean;
}

test('per-example weights reach the loss: all 0 but one is that example alone, all 1 is no weights, all 0 is no gradient', () => {
  const results = runWorkerFixture('weighted-gradients.py') as Record<string, Comparison>;
  assert.deepEqual(Object.keys(results), [
    't5 two-tasks joint',
    't5 two-tasks separate',
    't5 labels only',
    'causal-lm two-tasks joint',
    'causal-lm two-tasks separate',
    'causal-lm labels only',
    'causal-lm label-then-rationale',
  ]);
  for (const [setting, result] of Object.entries(results)) {
    // The same gradient up to float rounding (the weighted batch is padded to its longest example, so
    // its kernels sum in another order): a millionth of its size, where the unweighted batch is far off.
    assert.ok(
      result.one_weight_vs_alone_gradient <= 1e-6 * result.alone_gradient_size,
      `${setting}: weights 0,0,1,0 give the gradient of example 3 alone (differs by ${result.one_weight_vs_alone_gradient})`,
    );
    assert.ok(
      result.unweighted_vs_alone_gradient > 0.1 * result.alone_gradient_size,
      `${setting}: without weights the batch's gradient is not example 3's (the comparison can fail)`,
    );
    assert.ok(
      result.one_weight_vs_alone_update <= 1e-2 * result.update_size,
      `${setting}: one AdamW step moves the parameters alike (by ${result.one_weight_vs_alone_update} of ${result.update_size})`,
    );
    for (const [index, value] of result.losses.one_weight.entries()) {
      const alone = result.losses.alone[index];
      assert.ok(value === alone || Math.abs(value! - alone!) <= 1e-6 * Math.abs(alone!), `${setting}: loss ${index} ${value} vs ${alone}`);
    }
    assert.equal(result.ones_vs_plain_gradient, 0, `${setting}: weights of 1 give exactly the unweighted gradient`);
    assert.deepEqual(result.losses.ones, result.losses.plain, `${setting}: weights of 1 give exactly the unweighted losses`);
    assert.ok(result.zeros_finite, `${setting}: a batch of weights 0 has no NaN gradient`);
    assert.equal(result.zeros_gradient, 0, `${setting}: a batch of weights 0 has no gradient`);
    assert.deepEqual(
      result.losses.zeros.map((value) => (value === null ? null : 0)),
      result.losses.zeros,
      `${setting}: and loss 0`,
    );
  }
});

const examples = (weight: (index: number) => number | undefined): TrainingExample[] =>
  Array.from({ length: 24 }, (_, index) => ({
    id: `example/${index}`,
    input: `premise number ${index} </s> hypothesis ${index % 5}`,
    label: ['entailment', 'neutral', 'contradiction'][index % 3]!,
    rationale: `because reason ${index} holds`,
    ...(weight(index) === undefined ? {} : { weight: weight(index)! }),
  }));

const options: TorchTrainerOptions = {
  batch_size: 8,
  max_steps: 3,
  learning_rate: 3e-3,
  warmup_steps: 1,
  eval_every: 3,
  checkpoint_every: 3,
  generation_max_tokens: 2,
  threads: 1,
  log_every: 1,
};

function request(outputDirectory: string, train: TrainingExample[], student: TrainRequest['student']): TrainRequest {
  return {
    outputDirectory,
    train,
    validation: [],
    test: [],
    student,
    alpha: { start: 0.5, end: 0.5 },
    metric: 'exact-match',
    seed: 3,
    resume: false,
  };
}

test('the trainer protocol carries the weights: the data file holds them only where given, and the worker trains by them', async (context) => {
  const folder = temporaryDirectory(context, 'distill-weights-file-');
  const file = path.join(folder, 'train.jsonl');
  writeExamples(file, examples((index) => (index < 2 ? 0.25 * index : undefined)).slice(0, 3));
  assert.deepEqual((await readFile(file, 'utf8')).split('\n').filter(Boolean), [
    '{"id":"example/0","input":"premise number 0 </s> hypothesis 0","label":"entailment","rationale":"because reason 0 holds","weight":0}',
    '{"id":"example/1","input":"premise number 1 </s> hypothesis 1","label":"neutral","rationale":"because reason 1 holds","weight":0.25}',
    '{"id":"example/2","input":"premise number 2 </s> hypothesis 2","label":"contradiction","rationale":"because reason 2 holds"}',
  ]);

  for (const student of [tinyScratchStudent, tinyCausalStudent]) {
    const family = 'family' in student ? student.family : 't5';
    // Weights of 0: every step's losses are 0 in the real worker.
    const zeros = temporaryDirectory(context, 'distill-weights-zero-');
    const zeroRun = await runTrainer(
      options,
      request(
        zeros,
        examples(() => 0),
        student,
      ),
    );
    assert.equal(zeroRun.error, null, String(zeroRun.error));
    const zeroProgress = (await readMetrics(zeros)).filter((line) => line.type === 'progress');
    assert.equal(zeroProgress.length, 3);
    assert.ok(
      zeroProgress.every((line) => line.loss === 0 && line.label_loss === 0 && line.rationale_loss === 0),
      `${family}: weights of 0 train with loss 0: ${JSON.stringify(zeroProgress)}`,
    );
    // Weights of 1: the loss curve of the same data without weights.
    const curves: number[][] = [];
    for (const weight of [undefined, 1]) {
      const output = temporaryDirectory(context, 'distill-weights-ones-');
      const run = await runTrainer(
        options,
        request(
          output,
          examples(() => weight),
          student,
        ),
      );
      assert.equal(run.error, null, String(run.error));
      curves.push((await readMetrics(output)).filter((line) => line.type === 'progress').map((line) => line.loss!));
    }
    assert.ok(curves[0]!.every((loss) => loss > 0));
    assert.deepEqual(curves[1], curves[0], `${family}: weights of 1 train as no weights`);
  }
});

test('a weight that is not a finite number at least 0 is the worker user error naming the line', async (context) => {
  const output = temporaryDirectory(context, 'distill-weights-bad-');
  const train = examples((index) => (index === 4 ? -1 : 1));
  const run = await runTrainer(options, request(output, train, tinyScratchStudent));
  assert.ok(run.error instanceof UserError, String(run.error));
  assert.match(run.error.message, /train\.jsonl:5: `weight` must be a finite number at least 0, not -1/);
});
