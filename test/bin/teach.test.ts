import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { TeacherReport } from '../../core/teacher/teacher-report.js';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { clearCache } from '../../core/teacher/cache-maintenance.js';
import { estimatePipeline } from '../../core/teacher/estimate.js';
import { loadPipeline } from '../../plugins/index.js';
import { openAiTokenCounter } from '../../plugins/teachers/openai/openai-token-counter.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../support/paths.js';
import { startProviderServer } from '../support/provider-server.js';
import { runDistill, spawnDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const rationale = 'because the number in the question decides it';

test('distill teach --json streams events and ends with the report; prices come from the YAML; a second run asks nothing; estimate and the cache agree', async (context) => {
  const server = await startProviderServer('openai', (request) => ({
    kind: 'answer',
    text: /number \d*[02468]$/.test(request.prompt) ? `Answer: yes, ${rationale}` : 'I would rather not say.',
    usage: { promptTokens: 30, completionTokens: 10 },
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({
    directory,
    baseUrl: server.baseUrl,
    count: 10,
    prices: { 'openai/gpt-4o-mini': { prompt: 1000, completion: 2000 } },
  });
  const files = teachOutputFiles(directory);

  const first = await runDistill(['teach', pipeline, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(lines.some((line) => line.type === 'teacher.progress'));
  assert.equal(lines.filter((line) => line.type === 'teacher.request').length, 10);
  const report = lines.at(-1) as unknown as TeacherReport;
  assert.equal(report.records, 10);
  assert.deepEqual([report.parsed, report.unparsed], [5, 5]);
  // Gold is yes for even numbers: every parsed answer is right, every unparsed one wrong.
  assert.equal(report.accuracy, 0.5);
  // 10 × (30 × $1000 + 10 × $2000) per million tokens, from the pipeline's prices block.
  assert.ok(Math.abs(report.cost_usd - 0.5) < 1e-9, String(report.cost_usd));
  assert.deepEqual(report.price, { prompt: 1000, completion: 2000, key: 'openai/gpt-4o-mini', source: 'pipeline' });
  assert.deepEqual(JSON.parse(readFileSync(files.report, 'utf8')), report);
  const records = readFileSync(files.records, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TeacherRecord);
  assert.equal(new Set(records.map((record) => record.id)).size, 10);
  assert.equal(server.requests.length, 10);

  // A re-run resumes from the output: nothing left to ask.
  const second = await runDistill(['teach', pipeline]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(server.requests.length, 10);
  assert.match(second.stdout, /complete: 10 of 10 examples/);
  assert.match(second.stdout, /accuracy\s+50\.00%/);

  // estimate counts exactly what the token counter makes of the rendered prompts (in process: the
  // command only prints what estimatePipeline returns, and a spawn would load the tokenizer again).
  const estimate = await estimatePipeline(await loadPipeline(pipeline), { completionTokens: 7 });
  const counter = await openAiTokenCounter('gpt-4o-mini');
  let expected = 0;
  for (let index = 0; index < 10; index++)
    expected += counter.countMessages([{ role: 'user', content: `Answer yes or no and explain: train question number ${index}` }]);
  const openAiRow = estimate.rows.find((row) => row.provider === 'openai')!;
  assert.deepEqual([estimate.examples, openAiRow.prompt_tokens, openAiRow.completion_tokens, openAiRow.teacher], [10, expected, 70, true]);
  assert.ok(Math.abs(openAiRow.cost_usd! - (expected * 1000 + 70 * 2000) / 1e6) < 1e-9);
  assert.ok(estimate.rows.some((row) => row.provider === 'anthropic' && row.cost_usd! > 0));

  const stats = JSON.parse((await runDistill(['cache', 'stats', '--json', '--path', files.cache])).stdout) as {
    entries: number;
    byModel: { model: string; entries: number }[];
  };
  assert.equal(stats.entries, 10);
  assert.deepEqual(
    stats.byModel.map((row) => [row.model, row.entries]),
    [['gpt-4o-mini', 10]],
  );
  const cleared = clearCache({ path: files.cache, environment: {} }, { model: 'gpt-4o-mini' });
  assert.deepEqual([cleared.removed, cleared.remaining], [10, 0]);
});

test('distill teach stops cleanly at budget.max_usd and resumes from there when the budget is raised', async (context) => {
  const server = await startProviderServer('openai', () => ({
    kind: 'answer',
    text: `Answer: yes, ${rationale}`,
    usage: { promptTokens: 100, completionTokens: 0 },
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  // One cent per request at $100 per million prompt tokens; concurrency 1 so the stop point is exact.
  const prices = { 'openai/gpt-4o-mini': { prompt: 100, completion: 0 } };
  const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 8, concurrency: 1, maxUsd: 0.035, prices });
  const stopped = await runDistill(['teach', pipeline]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopped: budget — 4 of 8 examples left/);
  assert.equal(server.requests.length, 4);
  writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 8, concurrency: 1, maxUsd: 1, prices });
  const resumed = await runDistill(['teach', pipeline, '--json']);
  const report = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as TeacherReport;
  assert.deepEqual([report.stopped, report.records, report.requests_this_run], [null, 8, 4]);
  assert.equal(server.requests.length, 8);
  assert.ok(server.requests.every((request) => request.attempt === 1));
});

test('a missing API key fails before any work, naming the variable, without a stack trace', async (context) => {
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({ directory, baseUrl: 'https://api.openai.com/v1', count: 3 });
  writeFileSync(pipeline, readFileSync(pipeline, 'utf8').replace('    api_key: test-key-123456\n', ''));
  const run = await runDistill(['teach', pipeline], { OPENAI_API_KEY: '' });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /OPENAI_API_KEY is not set/);
  assert.match(run.stderr, /fix: export OPENAI_API_KEY=/);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});

test(
  'the zero-shot ANLI recipe runs unchanged with the openai teacher pointed at an OpenAI-compatible server',
  { skip: sharedDataMissing() },
  async (context) => {
    const server = await startProviderServer('openai', () => ({
      kind: 'answer',
      text: 'The claim is true, because the premise states it in so many words.',
    }));
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = path.join(directory, 'anli1-local.yaml');
    writeFileSync(
      pipeline,
      `extends: ${JSON.stringify(path.join(repositoryRoot, 'pipelines', 'anli1-zero-shot-openai.yaml'))}
name: anli1-local
dataset:
  limit: { train: 12 }
teacher:
  options:
    model: my-local-model
    base_url: ${server.baseUrl}
cache:
  path: ./cache.sqlite
output:
  directory: ./runs
`,
    );
    const run = await runDistill(['teach', pipeline, '--json'], { DISTILL_DSBS_DIR: dsbsDirectory, OPENAI_API_KEY: '' });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as TeacherReport;
    assert.deepEqual([report.records, report.parsed, report.teacher.model, report.price], [12, 12, 'my-local-model', null]);
    assert.equal(server.requests.length, 12);
    assert.equal(server.requests[0]!.body.model, 'my-local-model');
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer no-key-set');
  },
);

test('Ctrl+C stops distill teach cleanly: in-flight answers are written, the report says cancelled, exit code 130', async (context) => {
  const server = await startProviderServer('openai', () => ({ kind: 'answer', text: `Answer: yes, ${rationale}`, delayMilliseconds: 40 }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 200, concurrency: 2 });
  const child = spawnDistill(['teach', pipeline]);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (server.answers.length < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.match(output, /stopped: cancelled/);
  const records = readFileSync(teachOutputFiles(directory).records, 'utf8').trim().split('\n');
  // Every answer that arrived was written; only the two in flight at the signal may have been cut
  // off (they are in the cache if they arrived); and the stage did not go on.
  assert.ok(
    records.length <= server.answers.length && records.length >= server.answers.length - 2,
    `${records.length} records, ${server.answers.length} answers`,
  );
  assert.ok(records.length < 200);
});
