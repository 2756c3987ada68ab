import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { serveTokenVariable } from '../../core/serving/serve-student.js';
import { tinyStudent, tinyStudentMissing } from '../core/inference/tiny-student-fixture.js';
import { distillBin } from '../support/run-distill.js';
import { environmentWithout, startServe } from './serve-process.js';

describe('distill serve (the CLI)', { skip: tinyStudentMissing() }, () => {
  test('--token t: 401 without the token, 200 with it, and an access-log line for each on stderr', async () => {
    const fixture = await tinyStudent('trained');
    const serve = await startServe(['--model', fixture.exported, '--token', 't'], environmentWithout());
    try {
      const refused = await fetch(`${serve.url}/health`);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await refused.json()) as { error: { status: number } }).error.status, 401);
      const accepted = await fetch(`${serve.url}/health`, { headers: { authorization: 'Bearer t' } });
      assert.equal(accepted.status, 200);
      assert.deepEqual(await accepted.json(), { status: 'ok', precision: 'fp32' });
    } finally {
      assert.equal(await serve.stop(), 0);
    }
    assert.match(serve.stderr(), /^\S+Z 127\.0\.0\.1 "GET \/health" 401 \d+ms 0B$/m);
    assert.match(serve.stderr(), /^\S+Z 127\.0\.0\.1 "GET \/health" 200 \d+ms 0B$/m);
  });

  test('DISTILL_SERVE_TOKEN with --log-format json: the token is required and appears in no output', async () => {
    const fixture = await tinyStudent('trained');
    const token = 'zebra-token-4f1c2a';
    const serve = await startServe(
      ['--model', fixture.exported, '--log-format', 'json'],
      environmentWithout({ [serveTokenVariable]: token }),
    );
    let stdout = '';
    serve.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    try {
      assert.equal((await fetch(`${serve.url}/health`)).status, 401);
      const predict = await fetch(`${serve.url}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ inputs: [fixture.test[0]!.input] }),
      });
      assert.equal(predict.status, 200);
    } finally {
      assert.equal(await serve.stop(), 0);
    }
    const entries = serve
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { status: number; path: string });
    assert.deepEqual(
      entries.map((entry) => [entry.path, entry.status]),
      [
        ['/health', 401],
        ['/predict', 200],
      ],
    );
    assert.ok(!serve.stderr().includes(token) && !stdout.includes(token));
  });

  test('--host 0.0.0.0 without a token: exit 1, a fix naming --token and DISTILL_SERVE_TOKEN, no stack trace', async () => {
    const fixture = await tinyStudent('trained');
    const child = spawn(process.execPath, [distillBin, 'serve', '--model', fixture.exported, '--host', '0.0.0.0', '--port', '0'], {
      env: environmentWithout(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /refusing to serve on 0\.0\.0\.0 without a bearer token/);
    assert.match(stderr, /fix: pass --token <secret> or set DISTILL_SERVE_TOKEN=<secret>/);
    assert.doesNotMatch(stderr, /at .*\.js:\d+/);
  });
});
