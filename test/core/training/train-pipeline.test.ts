import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { trainPipeline } from '../../../core/training/train-pipeline.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../support/paths.js';
import { esnliTeacherRecords } from '../../plugins/trainers/torch/esnli-teacher-records.js';

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
  limit: { test: 60, validation: 40 }
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

test('distill train without teacher records says to run distill teach first', { skip: sharedDataMissing() }, async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'distill-train-no-records-'));
  const file = await writePipeline(directory, '{ max_steps: 5 }');
  await assert.rejects(trainPipeline(file), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /no teacher records at .*runs\/esnli-tiny\/teacher\/teacher-records\.jsonl/);
    assert.match(error.problems[0]!.fix ?? '', /run `distill teach .*esnli-tiny\.yaml` first/);
    return true;
  });
});

test('distill train runs the pipeline from its teacher records and writes the chosen checkpoint with its metrics', { skip: sharedDataMissing(), timeout: 300_000 }, async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'distill-train-cli-'));
  const file = await writePipeline(directory, '{ batch_size: 16, max_steps: 16, learning_rate: 3.0e-3, eval_every: 8, checkpoint_every: 8, generation_max_tokens: 4, threads: 1 }');
  const teacherDirectory = path.join(directory, 'runs', 'esnli-tiny', 'teacher');
  await mkdir(teacherDirectory, { recursive: true });
  // What `distill teach` writes for the train role: teacher records of the `valid` split only.
  const records = await esnliTeacherRecords(200);
  await writeFile(path.join(teacherDirectory, 'teacher-records.jsonl'), records.map((record) => JSON.stringify(record)).join('\n') + '\n');

  const cli = (...flags: string[]) => spawnSync(process.execPath, [path.join(repositoryRoot, 'bin', 'run.js'), 'train', file, ...flags], { encoding: 'utf8', timeout: 280_000 });
  const first = cli('--json');
  assert.equal(first.status, 0, first.stderr.slice(-3000));
  const result = JSON.parse(first.stdout) as Record<string, unknown> & { data: Record<string, number> };
  assert.equal(result.status, 'completed');
  assert.equal(result.steps, 16);
  assert.equal(result.resumed, false);
  assert.equal(result.metric, 'exact-match');
  // e-SNLI pairs each premise with three hypotheses; whole premises are held out, so 14 premises
  // (42 records, the first count of whole groups reaching 20%) leave 158 to train on.
  assert.deepEqual([result.data.records, result.data.validation, result.data.test], [158, 40, 60], '20% of the train records held out by premise (limited to 40), test read from the dataset');
  const best = path.join(directory, 'runs', 'esnli-tiny', 'train', 'best');
  assert.equal(result.checkpointDirectory, best);
  const metrics = JSON.parse(await readFile(path.join(best, 'distill-metrics.json'), 'utf8')) as Record<string, number>;
  assert.equal(metrics.validation_accuracy, result.validationAccuracy);
  assert.equal(metrics.test_accuracy, result.testAccuracy);
  assert.equal(metrics.test_examples, 60);
  assert.ok(existsSync(path.join(best, 'model.safetensors')));
  const request = JSON.parse(await readFile(path.join(directory, 'runs', 'esnli-tiny', 'train', 'request.json'), 'utf8')) as { request: { alpha: unknown } };
  assert.deepEqual(request.request.alpha, { start: 0.7, end: 0.3 }, 'α from the loss-weight plugin');
  // Progress went to stderr as plain lines (not a terminal); stdout held only the JSON result.
  assert.match(first.stderr, /"type":"train\.progress"/);

  // The same request again continues from its last checkpoint, which is the end: nothing to train.
  const second = cli('--json');
  assert.equal(second.status, 0, second.stderr.slice(-3000));
  const again = JSON.parse(second.stdout) as Record<string, unknown>;
  assert.equal(again.resumed, true);
  assert.equal(again.testAccuracy, result.testAccuracy);
});
