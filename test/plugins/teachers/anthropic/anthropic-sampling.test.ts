import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { anthropicTeacher } from '../../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { runDistill } from '../../../support/run-distill.js';
import { writeTeachPipeline } from '../../../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { testDependencies } from '../../../support/test-dependencies.js';

test('samplingRefusal: only an explicit temperature of 0 refuses; unset, the API samples at its own default', async () => {
  const options = { model: 'claude-3-5-haiku-latest', base_url: 'http://127.0.0.1:9', api_key: 'sk-ant-test-123456' };
  const greedy = await anthropicTeacher.create({ ...options, temperature: 0 }, testDependencies());
  assert.equal(greedy.samplingRefusal, 'every sample would be the same answer: set options.temperature, e.g. 0.7');
  assert.equal((await anthropicTeacher.create(options, testDependencies())).samplingRefusal, null);
  assert.equal((await anthropicTeacher.create({ ...options, temperature: 0.7 }, testDependencies())).samplingRefusal, null);
  // The Messages API has no `n`: the core asks one request per sample.
  assert.equal('completeSamples' in greedy, false);
});

test('logprobs is no option of the anthropic teacher: distill validate names the key, the plugin and the keys it takes', async (context) => {
  const directory = temporaryDirectory(context);
  const file = writeTeachPipeline({ directory, baseUrl: 'http://127.0.0.1:9', count: 4, teacherOptions: { logprobs: 'true' } });
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace('use: openai', 'use: anthropic').replace('model: gpt-4o-mini', 'model: claude-3-5-haiku-latest'),
  );
  const run = await runDistill(['validate', file]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /\/teacher\/options\/logprobs \[teacher\/anthropic\]/);
  assert.match(run.stderr, /unknown key "logprobs"/);
});
