import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../../../core/errors/user-error.js';
import type { TrainRequest } from '../../../../core/plugins/kinds/trainer.js';
import type { TorchTrainerOptions } from '../../../../plugins/trainers/torch/torch-trainer-options.js';
import { sharedDataMissing } from '../../../support/paths.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { esnliTestExamples } from './esnli-teacher-records.js';
import { runTrainer } from './trainer-runs.js';

const options: TorchTrainerOptions = {
  batch_size: 8,
  max_steps: 4,
  eval_every: 4,
  checkpoint_every: 2,
  generation_max_tokens: 4,
  threads: 1,
};

/** Asserts that a run into `output` was refused with a UserError naming `link` and the way out. */
async function assertRefused(request: TrainRequest, link: string, leadsTo: string): Promise<void> {
  const run = await runTrainer(options, request);
  assert.ok(isUserError(run.error), String(run.error));
  assert.ok(run.error.message.includes(`${link} is a link to ${leadsTo}, outside the output folder`), run.error.message);
  assert.match(run.error.problems[0]!.fix ?? '', /`distill train --restart` trains this stage from scratch in a fresh folder/);
  assert.equal(
    run.seen.find((event) => event.type === 'train.started'),
    undefined,
    'refused before training',
  );
}

test(
  'links planted in the trainer output folder are refused or replaced, never followed',
  { skip: sharedDataMissing(), timeout: 240_000 },
  async (context) => {
    const examples = (await esnliTestExamples(40)).map((example) => ({ ...example, rationale: 'A rationale.' }));
    const outside = temporaryDirectory(context, 'distill-outside-');
    const victim = path.join(outside, 'victim.txt');
    await writeFile(victim, "the user's own file\n");
    const output = temporaryDirectory(context, 'distill-links-');
    const request: TrainRequest = {
      outputDirectory: output,
      train: examples.slice(0, 32),
      validation: examples.slice(32),
      test: [],
      student: {
        size: 'custom',
        config: { d_model: 16, d_ff: 32, d_kv: 4, num_heads: 4, num_layers: 1, num_decoder_layers: 1 },
        tokenizer: { type: 'bpe', vocab_size: 150 },
        max_input_length: 48,
        max_target_length: 16,
      },
      alpha: { start: 0.5, end: 0.5 },
      metric: 'exact-match',
      seed: 3,
      resume: true,
    };

    // A file the worker appends to, pointing at a file of the user's.
    const metrics = path.join(output, 'metrics.jsonl');
    await symlink(victim, metrics);
    await assertRefused(request, metrics, victim);
    await rm(metrics);

    // A checkpoint folder pointing at a folder of the user's.
    await mkdir(path.join(output, 'checkpoints'));
    const last = path.join(output, 'checkpoints', 'last');
    await symlink(outside, last);
    await assertRefused(request, last, outside);
    await rm(last);

    // The output folder itself a link.
    const linkedOutput = path.join(outside, 'linked-output');
    await symlink(output, linkedOutput);
    const run = await runTrainer(options, { ...request, outputDirectory: linkedOutput });
    assert.ok(isUserError(run.error), String(run.error));
    assert.match(run.error.message, /the output folder .*linked-output is a symbolic link/);
    await rm(linkedOutput);

    // A link that stays inside the folder is replaced by the file written, not written through.
    const kept = path.join(output, 'kept.txt');
    await writeFile(kept, 'kept as it is\n');
    await symlink(kept, path.join(output, 'result.json'));
    const completed = await runTrainer(options, request);
    assert.equal(completed.error, null, String(completed.error));
    assert.equal(await readFile(kept, 'utf8'), 'kept as it is\n');
    assert.ok(lstatSync(path.join(output, 'result.json')).isFile(), 'result.json is a file of its own now');
    assert.equal((JSON.parse(await readFile(path.join(output, 'result.json'), 'utf8')) as { status: string }).status, 'completed');

    assert.equal(await readFile(victim, 'utf8'), "the user's own file\n");
    assert.deepEqual((await readdir(outside)).sort(), ['victim.txt'], 'nothing written into the outside folder');
  },
);
