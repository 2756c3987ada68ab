import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import type { TeacherReport } from '../../core/teacher/teacher-report.js';
import { startProviderServer, type ProviderServer, type ReceivedRequest, type ServerStep } from '../support/provider-server.js';
import { runDistill, spawnDistill, type DistillRun } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline, type TeachPipelineFixture } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A fault campaign against `distill teach`, as a user on a flaky network meets it: a loopback server
// speaking OpenAI's wire protocol fails a share of the requests in one way or another, through the
// real SDK, and real `distill` processes must either answer every example (after at most one rerun)
// or stop non-zero saying how many failed and why. Failures are drawn from a hash of the prompt and
// its attempt number, so every run of the test meets the same faults.

const examples = 200;
const rationale = 'because the number in the question decides it';

/** A number in [0, 1) fixed by the prompt and the attempt. */
function draw(request: ReceivedRequest, salt: string): number {
  return createHash('sha256').update(`${salt}\u0000${request.prompt}\u0000${request.attempt}`).digest().readUInt32BE(0) / 2 ** 32;
}

const answer = (request: ReceivedRequest): ServerStep => ({
  kind: 'answer',
  text: `Answer: yes, ${rationale} (${request.prompt})`,
  delayMilliseconds: 2,
});

interface Chaos {
  readonly server: ProviderServer;
  readonly directory: string;
  readonly pipeline: string;
  teach(...flags: string[]): Promise<{ run: DistillRun; report: TeacherReport }>;
}

async function chaos(
  context: TestContext,
  script: (request: ReceivedRequest) => ServerStep,
  fixture: Partial<TeachPipelineFixture> = {},
): Promise<Chaos> {
  const server = await startProviderServer('openai', script);
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({
    directory,
    baseUrl: server.baseUrl,
    count: examples,
    concurrency: 16,
    teacherOptions: { timeout_seconds: 0.5 },
    limits: { max_retries: 6 },
    ...fixture,
  });
  return {
    server,
    directory,
    pipeline,
    async teach(...flags) {
      const run = await runDistill(['teach', pipeline, '--json', ...flags], {}, 170_000);
      const last = run.stdout.trim().split('\n').at(-1) ?? '';
      return { run, report: JSON.parse(last.startsWith('{') ? last : '{}') as TeacherReport };
    },
  };
}

function records(directory: string): TeacherRecord[] {
  return readFileSync(teachOutputFiles(directory).records, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TeacherRecord);
}

/**
 * Teaches until done, at most twice: every example ends with one parsed record, each answer was
 * sent by the server once (nothing paid for was asked again), and a first run that ended with
 * failures exited non-zero and said how many and why.
 */
async function everyExampleAnsweredWithinOneRerun(setup: Chaos, expectedReason: RegExp): Promise<{ reruns: number }> {
  const first = await setup.teach();
  let reruns = 0;
  if (first.run.code !== 0) {
    assert.equal(first.run.code, 1, first.run.stderr);
    assert.equal(first.report.stopped, 'failures');
    assert.ok(first.report.failed > 0);
    const reasons = Object.keys(first.report.failed_reasons);
    assert.ok(
      reasons.every((reason) => expectedReason.test(reason)),
      reasons.join('; '),
    );
    const second = await setup.teach();
    reruns = 1;
    assert.equal(second.run.code, 0, second.run.stderr);
    assert.equal(second.report.requests_this_run, first.report.failed, 'the rerun asked exactly the failed examples');
  }
  const written = records(setup.directory);
  assert.equal(written.length, examples);
  assert.equal(new Set(written.map((record) => record.id)).size, examples);
  assert.ok(written.every((record) => record.parse_status === 'parsed'));
  const answered = setup.server.answers.map((each) => each.prompt);
  assert.equal(answered.length, examples, 'each answer was paid for once');
  assert.equal(new Set(answered).size, examples);
  return { reruns };
}

test(
  '30% of requests hang: every example is answered (timeouts retried), within one rerun, each paid once',
  { timeout: 180_000 },
  async (context) => {
    const setup = await chaos(context, (request) => (draw(request, 'hang') < 0.3 ? { kind: 'hang' } : answer(request)));
    await everyExampleAnsweredWithinOneRerun(setup, /request timed out/);
    assert.ok(setup.server.requests.length > examples * 1.2, `the faults happened: ${setup.server.requests.length} requests`);
  },
);

test(
  '30% connection resets and truncated bodies: every example is answered within one rerun, each paid once',
  { timeout: 180_000 },
  async (context) => {
    const setup = await chaos(context, (request) => {
      const chance = draw(request, 'reset');
      if (chance < 0.15) return { kind: 'reset' };
      if (chance < 0.3) return { kind: 'truncated', text: `Answer: yes, ${rationale}` };
      return answer(request);
    });
    await everyExampleAnsweredWithinOneRerun(setup, /cannot reach OpenAI/);
    assert.ok(setup.server.requests.length > examples * 1.2);
  },
);

test(
  'empty answers (choices: []), malformed JSON and 5xx at 30%: all retried, and nothing empty is ever cached',
  { timeout: 180_000 },
  async (context) => {
    const empty = JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 },
    });
    const setup = await chaos(context, (request) => {
      const chance = draw(request, 'empty');
      if (chance < 0.1) return { kind: 'raw', status: 200, body: empty };
      if (chance < 0.2) return { kind: 'raw', status: 200, body: '{"id": "chatcmpl-1", "choices": [' };
      if (chance < 0.3) return { kind: 'error', fixture: 'openai-error-server' };
      return answer(request);
    });
    await everyExampleAnsweredWithinOneRerun(setup, /empty answer|malformed|server error/);
    const cache = new Database(teachOutputFiles(setup.directory).cache, { readonly: true });
    try {
      const row = cache.prepare("SELECT COUNT(*) AS entries, SUM(trim(text) = '') AS empty FROM answers").get() as {
        entries: number;
        empty: number;
      };
      assert.deepEqual(row, { entries: examples, empty: 0 });
    } finally {
      cache.close();
    }
  },
);

test(
  'a 400 (context length exceeded) on every request stops the run early, non-zero, saying why',
  { timeout: 120_000 },
  async (context) => {
    const setup = await chaos(context, () => ({ kind: 'error', fixture: 'openai-error-bad-request' }));
    const { run } = await setup.teach();
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, /the last 5 requests to gpt-4o-mini were all refused.*maximum context length/s);
    assert.match(run.stdout + run.stderr, /context window/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    // Stopped at the fifth refusal: only the requests already in flight went out after it.
    assert.ok(setup.server.requests.length <= 5 + 16, `${setup.server.requests.length} requests`);
    assert.ok(
      setup.server.requests.every((request) => request.attempt === 1),
      'a refusal is not retried',
    );
    assert.equal(existsSync(path.join(teacherStageFolder(setup.directory), 'stage.json')), false, 'the stage is not stored as complete');
  },
);

function teacherStageFolder(directory: string): string {
  return path.dirname(teachOutputFiles(directory).records);
}

test('a 429 asking for 600 s waits only teacher.limits.max_retry_after_seconds', { timeout: 120_000 }, async (context) => {
  const setup = await chaos(
    context,
    (request) =>
      request.prompt.endsWith('number 3') && request.attempt === 1
        ? { kind: 'error', fixture: 'openai-error-rate-limit', headers: { 'retry-after': '600' } }
        : answer(request),
    { limits: { max_retries: 6, max_retry_after_seconds: 1 } },
  );
  const started = Date.now();
  const { run, report } = await setup.teach();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(report.records, examples);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  const retry = run.stdout
    .split('\n')
    .map((line) => (line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : {}))
    .find((event) => event.type === 'teacher.retry')!;
  assert.equal(retry.asked_ms, 600_000);
  assert.ok(Number(retry.delay_ms) <= 1500, `waited ${String(retry.delay_ms)} ms`);
});

test(
  'failures above teacher.max_failure_rate: exit 1 with how many and why; the next run asks exactly the failed ones',
  { timeout: 120_000 },
  async (context) => {
    // Every tenth question fails with a 500 on each attempt until the server recovers.
    let recovered = false;
    const setup = await chaos(
      context,
      (request) =>
        !recovered && /number \d*0$/.test(request.prompt) ? { kind: 'error', fixture: 'openai-error-server' } : answer(request),
      { limits: { max_retries: 1 } },
    );
    const text = await runDistill(['teach', setup.pipeline], {}, 120_000);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /stopped: 20 of 200 examples failed, more than teacher\.max_failure_rate allows/);
    assert.match(text.stdout, /failed examples {2}20, by reason:\n +20× OpenAI server error \(500\).*gave up after 2 attempts/);
    assert.equal(existsSync(path.join(teacherStageFolder(setup.directory), 'stage.json')), false);
    const requestsBefore = setup.server.requests.length;
    assert.equal(requestsBefore, 180 + 20 * 2);

    recovered = true;
    const { run, report } = await setup.teach();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual([report.stopped, report.records, report.failed, report.requests_this_run], [null, 200, 0, 20]);
    const asked = setup.server.requests.slice(requestsBefore).map((request) => request.prompt);
    assert.equal(asked.length, 20);
    assert.ok(asked.every((prompt) => /number \d*0$/.test(prompt)));
    assert.ok(existsSync(path.join(teacherStageFolder(setup.directory), 'stage.json')));
  },
);

test(
  'failures within teacher.max_failure_rate: exit 0, the report says they failed, and the next run still asks them',
  { timeout: 120_000 },
  async (context) => {
    let recovered = false;
    const setup = await chaos(
      context,
      (request) => (!recovered && /number 1\d$/.test(request.prompt) ? { kind: 'error', fixture: 'openai-error-server' } : answer(request)),
      { limits: { max_retries: 0 }, maxFailureRate: 0.1 },
    );
    const first = await setup.teach();
    assert.equal(first.run.code, 0, first.run.stderr);
    assert.deepEqual([first.report.stopped, first.report.failed], [null, 10]);
    recovered = true;
    const second = await setup.teach();
    assert.deepEqual([second.report.failed, second.report.requests_this_run], [0, 10]);
  },
);

test(
  'Ctrl+C waits for the requests in flight and keeps their answers: 200 prompts cost 200 requests in all',
  { timeout: 120_000 },
  async (context) => {
    const setup = await chaos(context, (request) => ({ ...answer(request), delayMilliseconds: 150 }), { concurrency: 8 });
    const child = spawnDistill(['teach', setup.pipeline]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (setup.server.answers.length < 30 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /waiting for the answers in flight/);
    // Every request that went out was answered and written: none is paid again.
    const requestsAtStop = setup.server.requests.length;
    assert.ok(requestsAtStop < examples);
    assert.equal(records(setup.directory).length, requestsAtStop);
    const { run, report } = await setup.teach();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(report.records, examples);
    assert.equal(setup.server.requests.length, examples, `${setup.server.requests.length} requests for ${examples} prompts`);
  },
);

test(
  'distill run stops after a teacher stage with failures above the rate: exit 1, how many and why, nothing trained',
  { timeout: 120_000 },
  async (context) => {
    const setup = await chaos(
      context,
      (request) => (/number \d*0$/.test(request.prompt) ? { kind: 'error', fixture: 'openai-error-server' } : answer(request)),
      { limits: { max_retries: 0 } },
    );
    const run = await runDistill(['run', setup.pipeline], {}, 120_000);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /the teacher stage stopped: 20 of 200 examples got no answer, more than teacher\.max_failure_rate allows/);
    assert.match(run.stderr, /20× OpenAI server error \(500\)/);
    assert.match(run.stderr, /run the same command again to ask them again/);
    assert.equal(
      existsSync(path.join(setup.directory, 'runs', 'teach-fixture', 'stages', 'trainer')),
      false,
      'no training on a teacher stage that is not done',
    );
  },
);
