import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { startProviderServer, type ServerScript } from '../support/provider-server.js';
import { runDistill, type DistillRun } from '../support/run-distill.js';
import { writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A canary key runs down every path a key has leaked through: interpolated into a field that is not
// secret, echoed by the provider in error text (retried, refused, rejected), printed with --json and
// --verbose, and sent by a recipe that points base_url elsewhere. Then every byte distill wrote or
// printed is searched for it.

const canary = `sk-canary-${randomBytes(12).toString('hex')}`;

/** Every file under a folder (the run folder, the cache and its log, the pipeline). */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((entry) => path.join(folder, entry))
    .filter((file) => statSync(file).isFile());
}

function assertNoCanary(context: { directory: string; runs: readonly DistillRun[] }): void {
  const leaks: string[] = [];
  for (const file of filesUnder(context.directory)) if (readFileSync(file).includes(canary)) leaks.push(file);
  context.runs.forEach((run, index) => {
    if (run.stdout.includes(canary)) leaks.push(`stdout of run ${index + 1}`);
    if (run.stderr.includes(canary)) leaks.push(`stderr of run ${index + 1}`);
  });
  assert.deepEqual(leaks, [], `the canary key leaked into: ${leaks.join(', ')}`);
}

function errorBody(message: string): string {
  return JSON.stringify({ error: { message, type: 'invalid_request_error', code: null } });
}

async function serverEchoingTheKey(context: TestContext, script: ServerScript) {
  const server = await startProviderServer('openai', script);
  context.after(() => server.close());
  return server;
}

test(
  'a key interpolated into a plain field and echoed in provider errors appears in no file and no output',
  { timeout: 120_000 },
  async (context) => {
    // Questions 3, 7 and 13 are refused (400) with the key in the message; every other one first gets a
    // 500 echoing the key, then its answer.
    const server = await serverEchoingTheKey(context, (request) => {
      if (/number (3|7|13)$/.test(request.prompt))
        return { kind: 'raw', status: 400, body: errorBody(`Invalid request made with key ${canary}`) };
      if (request.attempt === 1) return { kind: 'raw', status: 500, body: errorBody(`upstream failed for ${canary}`) };
      return { kind: 'answer', text: 'Answer: yes, because the number in the question decides it' };
    });
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({
      directory,
      baseUrl: server.baseUrl,
      count: 20,
      apiKey: '${OPENAI_API_KEY}',
      description: 'made with the key ${OPENAI_API_KEY}',
      maxFailureRate: 0.5,
      concurrency: 2,
    });
    const environment = { OPENAI_API_KEY: canary };
    const runs = [
      await runDistill(['teach', pipeline, '--json', '--verbose'], environment),
      await runDistill(['teach', pipeline, '--verbose'], environment),
      await runDistill(['run', pipeline, '--dry-run', '--json'], environment),
      await runDistill(['validate', pipeline, '--json'], environment),
    ];
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    // The leak paths were taken: the key went to the server, and its errors were retried and recorded.
    assert.equal(server.requests[0]!.headers.authorization, `Bearer ${canary}`);
    assert.match(runs[0]!.stdout, /"reason":"OpenAI server error \(500\): 500 upstream failed for \[redacted\]","type":"teacher.retry"/);
    assert.match(runs[1]!.stdout, /3× OpenAI refused the request \(400\): 400 Invalid request made with key \[redacted\]/);
    const summary = readFileSync(path.join(directory, 'runs', 'teach-fixture', 'summary.json'), 'utf8');
    assert.match(summary, /"description": "made with the key \[redacted\]"/);
    assertNoCanary({ directory, runs });
  },
);

test(
  'a key the provider echoes while rejecting it (401) is not printed, with --json or --verbose',
  { timeout: 60_000 },
  async (context) => {
    const server = await serverEchoingTheKey(context, () => ({
      kind: 'raw',
      status: 401,
      body: errorBody(`Incorrect API key provided: ${canary}.`),
    }));
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 5, apiKey: '${OPENAI_API_KEY}' });
    const environment = { OPENAI_API_KEY: canary };
    const runs = [
      await runDistill(['teach', pipeline, '--verbose'], environment),
      await runDistill(['teach', pipeline, '--json', '--verbose'], environment),
    ];
    for (const run of runs) assert.equal(run.code, 1);
    assert.match(runs[0]!.stderr, /rejected the API key \(401\): 401 Incorrect API key provided: \[redacted\]/);
    assert.match(runs[0]!.stderr, /\n\s+at /, '--verbose printed the stack, redacted too');
    assertNoCanary({ directory, runs });
  },
);

test('a recipe that sets only base_url gets no key from the environment', { timeout: 60_000 }, async (context) => {
  const server = await serverEchoingTheKey(context, () => ({
    kind: 'answer',
    text: 'Answer: yes, because the number in the question decides it',
  }));
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 5, apiKey: null });
  const runs = [await runDistill(['teach', pipeline, '--json'], { OPENAI_API_KEY: canary })];
  assert.equal(runs[0]!.code, 0, runs[0]!.stderr);
  assert.equal(server.requests.length, 5);
  assert.ok(server.requests.every((request) => request.headers.authorization === 'Bearer no-key-set'));
  assert.ok(server.requests.every((request) => !JSON.stringify(request).includes(canary)));
  assertNoCanary({ directory, runs });
});
