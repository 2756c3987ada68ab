import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Teacher, TeacherRequest } from '../../../../core/plugins/kinds/teacher.js';
import { TeacherRetryableError } from '../../../../core/plugins/kinds/teacher.js';
import { UserError } from '../../../../core/errors/user-error.js';
import { dsbsDataset } from '../../../../plugins/datasets/dsbs/dsbs-dataset.js';
import { MissingRecordingError } from '../../../../plugins/teachers/recorded/create-recorded-teacher.js';
import { recordedTeacher, type RecordedTeacherOptions } from '../../../../plugins/teachers/recorded/recorded-teacher.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing, testPath } from '../../../support/paths.js';
import { testDependencies } from '../../datasets/test-dependencies.js';

const skip = sharedDataMissing();
const signal = new AbortController().signal;
const create = (options: RecordedTeacherOptions, baseDirectory = repositoryRoot): Promise<Teacher> =>
  Promise.resolve(recordedTeacher.create(options, testDependencies(baseDirectory)));
const request = (exampleId: string, split: string, content = 'prompt text'): TeacherRequest => ({
  exampleId,
  split,
  messages: [{ role: 'user', content }],
});

test('dsbs: output i of shard k answers gold record k * shard_size + i', { skip }, async () => {
  const teacher = await create({ source: 'dsbs', dataset: 'esnli', root: dsbsDirectory });
  const shard0 = JSON.parse(await readFile(path.join(dsbsDirectory, 'esnli', 'llm', 'valid_CoT_0.json'), 'utf8')) as string[];
  const shard1 = JSON.parse(await readFile(path.join(dsbsDirectory, 'esnli', 'llm', 'valid_CoT_1.json'), 'utf8')) as string[];
  assert.equal(shard0.length, 5500);
  assert.equal((await teacher.complete(request('esnli/valid/0', 'valid'), signal)).text, shard0[0]);
  assert.equal((await teacher.complete(request('esnli/valid/5499', 'valid'), signal)).text, shard0[5499]);
  assert.equal((await teacher.complete(request('esnli/valid/5500', 'valid'), signal)).text, shard1[0]);
  assert.equal((await teacher.complete(request('esnli/valid/9841', 'valid'), signal)).text, shard1.at(-1));
});

test("dsbs: cqa answers by the dataset's own ids, and the answer fits the question", { skip }, async () => {
  const dependencies = testDependencies(repositoryRoot);
  const dataset = await dsbsDataset.create({ name: 'cqa', root: dsbsDirectory }, dependencies);
  const teacher = await create({ source: 'dsbs', dataset: 'cqa', root: dsbsDirectory });
  let index = 0;
  for await (const example of dataset.read('train')) {
    // Shard 1 starts at record 1000: check across the boundary.
    if (index === 999 || index === 1000) {
      const response = await teacher.complete(request(example.id, 'train'), signal);
      const shard = JSON.parse(
        await readFile(path.join(dsbsDirectory, 'cqa', 'llm', `train_CoT_${index === 999 ? 0 : 1}.json`), 'utf8'),
      ) as string[];
      assert.equal(response.text, shard[index === 999 ? 999 : 0]);
    }
    if (++index > 1000) break;
  }
});

test('dsbs: a recorded teacher reports itself, is not cacheable, and counts about 4 characters a token', { skip }, async () => {
  const teacher = await create({ source: 'dsbs', dataset: 'svamp', root: dsbsDirectory });
  assert.equal(teacher.provider, 'recorded');
  assert.equal(teacher.model, 'palm-540b-recorded');
  assert.equal(teacher.cacheable, false);
  assert.deepEqual(teacher.requestOptions, { source: 'dsbs', dataset: 'svamp' });
  const response = await teacher.complete(request('svamp/test/0', 'test', 'x'.repeat(41)), signal);
  assert.deepEqual(response.usage, { promptTokens: 11, completionTokens: Math.ceil(response.text.length / 4) });
  assert.equal(response.model, 'palm-540b-recorded');
  const zero = await create({ source: 'dsbs', dataset: 'svamp', root: dsbsDirectory, usage: 'zero', model: 'palm' });
  assert.deepEqual((await zero.complete(request('svamp/test/0', 'test'), signal)).usage, { promptTokens: 0, completionTokens: 0 });
  assert.equal(zero.model, 'palm');
});

test('an example without a recording fails with a final, non-retryable error naming it', { skip }, async () => {
  const teacher = await create({ source: 'dsbs', dataset: 'svamp', root: dsbsDirectory });
  await assert.rejects(teacher.complete(request('svamp/test/200', 'test'), signal), (error: unknown) => {
    assert.ok(error instanceof MissingRecordingError);
    assert.ok(!(error instanceof TeacherRetryableError));
    assert.match(error.message, /^no recorded completion for example "svamp\/test\/200" in .*svamp\/llm\/test_CoT_\*\.json$/);
    return true;
  });
});

test('dsbs: a split without shards is a UserError naming the expected file', { skip }, async () => {
  const teacher = await create({ source: 'dsbs', dataset: 'esnli', root: dsbsDirectory });
  await assert.rejects(teacher.complete(request('esnli/train/0', 'train'), signal), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(
      error.problems[0]!.message,
      `no recorded teacher outputs for esnli/train: expected ${path.join(dsbsDirectory, 'esnli', 'llm', 'train_CoT_0.json')}`,
    );
    return true;
  });
});

test('jsonl: completions by id from a file relative to the pipeline folder', async () => {
  const fixtures = testPath('plugins', 'teachers', 'recorded', 'fixtures');
  const teacher = await create({ source: 'jsonl', file: 'completions.jsonl' }, fixtures);
  assert.equal(teacher.model, 'recorded');
  assert.equal((await teacher.complete(request('train/0', 'train'), signal)).text, 'The claim is true. A sleeping man is resting.');
  assert.equal((await teacher.complete(request('train/1', 'train'), signal)).text, 'Inconclusive.');
  await assert.rejects(teacher.complete(request('train/2', 'train'), signal), MissingRecordingError);
  const duplicate = await create({ source: 'jsonl', file: 'duplicate.jsonl' }, fixtures);
  await assert.rejects(duplicate.complete(request('a', 'train'), signal), /line 2 of .*duplicate\.jsonl repeats id "a"/);
});

test('wrong option combinations and missing files are UserErrors before any request', async () => {
  const fixtures = testPath('plugins', 'teachers', 'recorded', 'fixtures');
  await assert.rejects(
    create({ source: 'jsonl', file: 'absent.jsonl' }, fixtures),
    (error: unknown) =>
      error instanceof UserError && error.message === `recorded completions file not found: ${path.join(fixtures, 'absent.jsonl')}`,
  );
  await assert.rejects(
    create({ source: 'jsonl', file: 'completions.jsonl', dataset: 'cqa' }, fixtures),
    /option dataset does nothing with source jsonl/,
  );
  await assert.rejects(
    create({ source: 'dsbs', dataset: 'cqa' }, fixtures),
    (error: unknown) => error instanceof UserError && /DISTILL_DSBS_DIR/.test(error.problems[0]!.fix!),
  );
});
