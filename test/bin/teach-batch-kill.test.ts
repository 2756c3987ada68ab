import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { startAnthropicBatchServer } from '../support/anthropic-batch-server.js';
import { startOpenAiBatchServer } from '../support/openai-batch-server.js';
import { batchModeSettings, describeKills, killAtRandomPoints, type KillPoint } from '../support/random-kills.js';
import { runDistill, spawnDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const examples = 40;
/**
 * Ten batches of four: submission, polling and collection each take several steps to kill in, and a
 * kill while collecting (a few downloads late, on a loaded machine) still leaves batches to collect.
 */
const batchSettings = batchModeSettings(4);
const answer = 'Answer: yes, because the question has an answer of its own';

/** The prompt the fixture prompt plugin renders for example `q<index>`. */
const promptOf = (index: number) => `Answer yes or no and explain: train question number ${index}`;

/**
 * Runs `distill teach` in batch mode three times, killing it (SIGKILL) once during submission, once
 * while it polls and once while it collects; returns what each kill met, as text for messages.
 */
async function killThreeTimes(pipeline: string, points: readonly KillPoint[]): Promise<string[]> {
  const moments = await killAtRandomPoints(['teach', pipeline, ...batchSettings], points);
  return describeKills(moments).split('; ');
}

/** The records of the final output: every example once, every one answered and parsed. */
function assertEveryExampleAnswered(directory: string, moments: readonly string[]): void {
  const files = teachOutputFiles(directory);
  assert.ok(existsSync(files.records));
  const records = readFileSync(files.records, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TeacherRecord);
  assert.equal(records.length, examples, moments.join('; '));
  assert.deepEqual(new Set(records.map((record) => record.id)), new Set(Array.from({ length: examples }, (_, index) => `q${index}`)));
  assert.ok(
    records.every((record) => record.parse_status === 'parsed' && record.teacher_label === 'yes'),
    moments.join('; '),
  );
  // Every answer was paid for by a batch of this stage, those collected by a killed run included:
  // each record counts it once, at its cost, and none as a free cache hit.
  const free = records.filter((record) => record.cached || !(record.cost_usd > 0));
  assert.deepEqual(
    free.map((record) => record.id),
    [],
    moments.join('; '),
  );
}

/** Records in the output before the last run: fewer than all, or the kills came too late to test anything. */
function recordsSoFar(directory: string): number {
  const { records } = teachOutputFiles(directory);
  return existsSync(records)
    ? readFileSync(records, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '').length
    : 0;
}

async function finalRun(context: TestContext, directory: string, pipeline: string, moments: readonly string[]): Promise<void> {
  const before = recordsSoFar(directory);
  context.diagnostic(`${moments.join('; ')}; ${before} records before the last run`);
  assert.ok(before < examples, `every example was answered before the last run: the kills came too late (${moments.join('; ')})`);
  assert.ok(!moments.some((moment) => moment.includes('had exited')), moments.join('; '));
  const final = await runDistill(['teach', pipeline, ...batchSettings, '--json'], {}, 120_000);
  assert.equal(final.code, 0, `${moments.join('; ')}\n${final.stderr}`);
}

test(
  'openai: kill -9 of distill teach in batch mode during submit, poll and collect, then a last run: every example answered, no request submitted twice',
  { timeout: 240_000 },
  async (context: TestContext) => {
    const server = await startOpenAiBatchServer({
      script: () => ({ kind: 'answer', text: answer }),
      // Several status checks per batch, so that a run spends a while polling.
      plan: () => ({ kind: 'complete', afterPolls: 4 }),
    });
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: examples });
    const count = (test: (call: { method: string; path: string }) => boolean) => () => server.calls.filter(test).length;
    const moments = await killThreeTimes(pipeline, [
      { phase: 'submit', calls: () => server.submissions },
      { phase: 'poll', calls: count((call) => call.method === 'GET' && /^\/v1\/batches\/[^/]+$/.test(call.path)) },
      { phase: 'collect', calls: count((call) => call.method === 'GET' && /^\/v1\/files\/[^/]+\/content$/.test(call.path)) },
    ]);
    await finalRun(context, directory, pipeline, moments);
    assertEveryExampleAnswered(directory, moments);
    for (let index = 0; index < examples; index++) {
      assert.equal(
        server.timesSubmittedPrompt(promptOf(index)),
        1,
        `q${index} submitted ${server.timesSubmittedPrompt(promptOf(index))} times (${moments.join('; ')})`,
      );
    }
    assert.equal(
      server.batches.reduce((sum, batch) => sum + batch.lines.length, 0),
      examples,
      moments.join('; '),
    );
  },
);

test(
  'anthropic: kill -9 of distill teach in batch mode during submit, poll and collect, then a last run: every example answered, no request submitted twice',
  { timeout: 240_000 },
  async (context: TestContext) => {
    const server = await startAnthropicBatchServer({ script: () => ({ kind: 'answer', text: answer }), pollsUntilEnded: 4 });
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({
      directory,
      baseUrl: server.baseUrl,
      count: examples,
      teacher: 'anthropic',
      model: 'claude-3-5-haiku-latest',
    });
    const count = (route: string) => () => server.calls.filter((call) => call.route === route).length;
    const moments = await killThreeTimes(pipeline, [
      { phase: 'submit', calls: () => server.batchesCreated },
      { phase: 'poll', calls: count('retrieve') },
      { phase: 'collect', calls: count('results') },
    ]);
    await finalRun(context, directory, pipeline, moments);
    assertEveryExampleAnswered(directory, moments);
    for (let index = 0; index < examples; index++) {
      assert.equal(
        server.submissionsFor(promptOf(index)),
        1,
        `q${index} submitted ${server.submissionsFor(promptOf(index))} times (${moments.join('; ')})`,
      );
    }
    assert.equal(server.requestsSubmitted, examples, moments.join('; '));
  },
);

test(
  'Ctrl+C in batch mode submits nothing more, exits 130 saying the batches are still at the provider, and the next run collects them',
  { timeout: 120_000 },
  async (context) => {
    const server = await startOpenAiBatchServer({ script: () => ({ kind: 'answer', text: answer }), plan: () => ({ kind: 'hold' }) });
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 16 });
    // Two batches of eight.
    const settings = batchModeSettings(8);
    const child = spawnDistill(['teach', pipeline, ...settings]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    // Both batches of eight submitted and held: the run is polling.
    while (
      server.calls.filter((call) => call.method === 'GET' && /^\/v1\/batches\/[^/]+$/.test(call.path)).length < 3 &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /stopped with 2 batches \(16 requests\) still at the provider; run the same command again to collect them/);
    assert.equal(server.batches.length, 2);

    for (const batch of server.batches) server.complete(batch.id);
    const final = await runDistill(['teach', pipeline, ...settings, '--json'], {}, 60_000);
    assert.equal(final.code, 0, final.stderr);
    assert.equal(server.batches.length, 2);
    assert.equal(server.submissions, 2);
    const { records } = teachOutputFiles(directory);
    assert.equal(readFileSync(records, 'utf8').trim().split('\n').length, 16);
  },
);
