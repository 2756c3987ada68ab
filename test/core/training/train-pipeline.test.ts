import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../support/paths.js';

/** An e-SNLI pipeline with the recorded PaLM teacher and a tiny student, run directory inside `directory`. */
async function writePipeline(directory: string, trainerOptions: string): Promise<string> {
  const file = path.join(directory, 'esnli-tiny.yaml');
  await writeFile(
    file,
    `name: esnli-tiny
seed: 7
dataset:
  use: dsbs
  options: { name: esnli, root: ${JSON.stringify(dsbsDirectory)} }
  splits: { train: valid, test: test }
  validation_fraction: 0.2
  limit: { train: 200, test: 60, validation: 40 }
teacher:
  use: recorded
  options: { source: dsbs, dataset: esnli, root: ${JSON.stringify(dsbsDirectory)} }
prompt:
  use: template
  options: { name: nli-zero-shot }
parser:
  use: palm
  options: { dataset: esnli }
samplers:
  - use: label-source
    options: { source: teacher }
  - use: rationale-rate
    options: { rate: 0.5 }
student:
  size: custom
  config: { d_model: 32, d_ff: 64, d_kv: 8, num_heads: 4, num_layers: 1, num_decoder_layers: 1 }
  tokenizer: { type: bpe, vocab_size: 600 }
  max_input_length: 64
  max_target_length: 32
trainer:
  use: torch
  options: ${trainerOptions}
loss:
  use: linear
  options: { start: 0.7, end: 0.3 }
evaluators:
  - use: exact-match
output:
  directory: ./runs
`,
  );
  return file;
}

const distill = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(repositoryRoot, 'bin', 'run.js'), ...args], { encoding: 'utf8', timeout: 280_000 });

test(
  'distill train without a stored teacher stage says to run distill teach first, and asks no teacher',
  { skip: sharedDataMissing() },
  async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'distill-train-no-records-'));
    const file = await writePipeline(directory, '{ max_steps: 5 }');
    const run = distill('train', file);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /the teacher stage has no stored output for this pipeline/);
    assert.match(run.stderr, /fix: run `distill teach .*esnli-tiny\.yaml` first/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.equal(existsSync(path.join(directory, 'runs', 'esnli-tiny', 'stages', 'teacher')), false, 'no teacher stage was started');
  },
);

test(
  'distill teach then distill train: the chosen checkpoint with its metrics, in the stage distill run reuses',
  { skip: sharedDataMissing(), timeout: 300_000 },
  async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'distill-train-cli-'));
    const file = await writePipeline(
      directory,
      '{ batch_size: 16, max_steps: 16, learning_rate: 3.0e-3, eval_every: 8, checkpoint_every: 8, generation_max_tokens: 4, threads: 1 }',
    );
    const teach = distill('teach', file);
    assert.equal(teach.status, 0, teach.stderr.slice(-3000));

    const first = distill('train', file, '--json');
    assert.equal(first.status, 0, first.stderr.slice(-3000));
    const result = JSON.parse(first.stdout) as Record<string, unknown> & { data: Record<string, number>; outputDirectory: string };
    assert.equal(result.stage, 'computed');
    assert.equal(result.status, 'completed');
    assert.equal(result.steps, 16);
    assert.equal(result.resumed, false);
    assert.equal(result.metric, 'exact-match');
    // e-SNLI pairs each premise with three hypotheses; whole premises are held out, so 40 validation
    // examples (the limit) and the rest of the 200 teacher records minus whole held-out premises train.
    assert.deepEqual(
      [result.data.records, result.data.validation, result.data.test],
      [158, 40, 60],
      '20% of the train records held out by premise (limited to 40), test read from the dataset',
    );
    assert.ok(result.outputDirectory.includes(path.join('runs', 'esnli-tiny', 'stages', 'trainer')), result.outputDirectory);
    const best = path.join(result.outputDirectory, 'best');
    assert.equal(result.checkpointDirectory, best);
    const metrics = JSON.parse(await readFile(path.join(best, 'distill-metrics.json'), 'utf8')) as Record<string, number>;
    assert.equal(metrics.validation_accuracy, result.validationAccuracy);
    assert.equal(metrics.test_accuracy, result.testAccuracy);
    assert.equal(metrics.test_examples, 60);
    assert.ok(existsSync(path.join(best, 'model.safetensors')));
    const request = JSON.parse(await readFile(path.join(result.outputDirectory, 'request.json'), 'utf8')) as {
      request: { alpha: unknown };
    };
    assert.deepEqual(request.request.alpha, { start: 0.7, end: 0.3 }, 'α from the loss-weight plugin');
    // Progress events went to stderr as JSON lines; stdout held only the JSON result.
    assert.match(first.stderr, /"type":"train\.progress"/);

    // The same pipeline again: the stored trainer stage is reused, nothing is trained.
    const second = distill('train', file, '--json');
    assert.equal(second.status, 0, second.stderr.slice(-3000));
    const again = JSON.parse(second.stdout) as Record<string, unknown>;
    assert.equal(again.stage, 'reused');
    assert.equal(again.testAccuracy, result.testAccuracy);
  },
);
