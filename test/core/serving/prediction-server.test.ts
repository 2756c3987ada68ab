import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../core/errors/user-error.js';
import type { AccessLogEntry } from '../../../core/serving/access-log.js';
import { serveStudent, type RunningServer } from '../../../core/serving/serve-student.js';
import { tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { waitUntil } from './raw-connection.js';
import { serveDuringSuite } from './served-student.js';

async function post(
  server: RunningServer,
  body: string | Buffer,
  route = '/predict',
): Promise<{ status: number; json: unknown; connection: string | null }> {
  const response = await fetch(`${server.url}${route}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: response.status, json: await response.json(), connection: response.headers.get('connection') };
}

describe('distill serve: the HTTP API', { skip: tinyStudentMissing() }, () => {
  const served = serveDuringSuite('trained', { limits: { maxBodyBytes: 16 * 1024, maxBatch: 4 } });

  async function goodRequestSucceeds(): Promise<void> {
    const { status, json } = await post(
      served.server,
      JSON.stringify({ inputs: [served.fixture.test[0]!.input, served.fixture.test[1]!.input], explain: true }),
    );
    assert.equal(status, 200);
    assert.deepEqual(json, {
      predictions: [0, 1].map((index) => ({
        label: served.fixture.reference.predict_texts[index]!.trim(),
        rationale: served.fixture.reference.explain_texts[index]!.trim(),
      })),
    });
  }

  test('GET /health answers ok and the precision, and shows no path', async () => {
    const response = await fetch(`${served.server.url}/health`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { status: 'ok', precision: 'fp32' });
    assert.ok(!text.includes(served.fixture.exported) && !text.includes('/'), text);
  });

  test('POST /predict returns the labels and rationales PyTorch generates', goodRequestSucceeds);

  test('without explain, only labels', async () => {
    const { status, json } = await post(served.server, JSON.stringify({ inputs: [served.fixture.test[2]!.input] }));
    assert.equal(status, 200);
    assert.deepEqual(json, { predictions: [{ label: served.fixture.reference.predict_texts[2]!.trim() }] });
  });

  const badRequests: { name: string; body: string | Buffer; status: number; message: RegExp }[] = [
    { name: 'bad JSON', body: '{"inputs": ["a"', status: 400, message: /not valid JSON/ },
    {
      name: 'an oversize body',
      body: JSON.stringify({ inputs: ['x'.repeat(64 * 1024)] }),
      status: 413,
      message: /larger than 16384 bytes/,
    },
    { name: 'empty inputs', body: JSON.stringify({ inputs: [] }), status: 400, message: /"inputs" is empty/ },
    { name: 'a blank text', body: JSON.stringify({ inputs: ['  '] }), status: 400, message: /"inputs\[0\]" is empty/ },
    { name: 'inputs of the wrong type', body: JSON.stringify({ inputs: 'a text' }), status: 400, message: /must be an array of strings/ },
    {
      name: 'a number among the texts',
      body: JSON.stringify({ inputs: ['a', 3] }),
      status: 400,
      message: /"inputs\[1\]" must be a string, got number/,
    },
    {
      name: 'explain not a boolean',
      body: JSON.stringify({ inputs: ['a'], explain: 'yes' }),
      status: 400,
      message: /"explain" must be true or false/,
    },
    { name: 'an unknown field', body: JSON.stringify({ input: ['a'] }), status: 400, message: /unknown field\(s\) "input"/ },
    { name: 'a JSON array body', body: '[]', status: 400, message: /must be a JSON object/ },
    {
      name: 'a batch over the limit',
      body: JSON.stringify({ inputs: ['a', 'b', 'c', 'd', 'e'] }),
      status: 413,
      message: /at most 4 per request/,
    },
  ];
  for (const bad of badRequests) {
    test(`${bad.name} → ${bad.status} with a message, and the server keeps serving`, async () => {
      const { status, json, connection } = await post(served.server, bad.body);
      assert.equal(status, bad.status);
      const { error } = json as { error: { status: number; message: string } };
      assert.equal(error.status, bad.status);
      assert.match(error.message, bad.message);
      // Only a refusal before the body is read closes the connection: its unread rest cannot be skipped.
      assert.equal(connection, bad.name === 'an oversize body' ? 'close' : 'keep-alive');
      await goodRequestSucceeds();
    });
  }

  test('other routes and methods → 404 and 405, an unparsable target → 400', async () => {
    assert.equal((await post(served.server, '{}', '/nothing')).status, 404);
    const wrongMethod = await fetch(`${served.server.url}/predict`);
    assert.equal(wrongMethod.status, 405);
    assert.match(((await wrongMethod.json()) as { error: { message: string } }).error.message, /POST \/predict/);
    // A target the URL parser rejects is the client's mistake, not a 500.
    const badTarget = await fetch(`${served.server.url}//`);
    assert.equal(badTarget.status, 400);
    assert.match(((await badTarget.json()) as { error: { message: string } }).error.message, /not a valid path/);
    await goodRequestSucceeds();
  });

  test('the access log has one JSON line per request: time, method, path, status, duration, bytes, address; never the body', async () => {
    const secretText = 'the-body-must-never-reach-the-log';
    const before = served.logLines.length;
    const body = JSON.stringify({ inputs: [`${served.fixture.test[0]!.input} ${secretText}`] });
    assert.equal((await post(served.server, body, '/predict?query=hidden')).status, 200);
    assert.equal((await fetch(`${served.server.url}/health`)).status, 200);
    await waitUntil(() => served.logLines.length >= before + 2, 'both requests are logged');
    const entries = served.entries().slice(before);
    assert.equal(entries.length, 2);
    const [predict, health] = entries as [AccessLogEntry, AccessLogEntry];
    assert.deepEqual(Object.keys(predict).sort(), [
      'durationMilliseconds',
      'method',
      'path',
      'remoteAddress',
      'requestBytes',
      'status',
      'time',
    ]);
    const { time, durationMilliseconds, ...rest } = predict;
    assert.deepEqual(rest, {
      method: 'POST',
      path: '/predict',
      status: 200,
      requestBytes: Buffer.byteLength(body),
      remoteAddress: '127.0.0.1',
    });
    assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000, time);
    assert.ok(Number.isInteger(durationMilliseconds) && durationMilliseconds >= 0);
    assert.equal(health.path, '/health');
    assert.equal(health.requestBytes, 0);
    for (const line of served.logLines) assert.ok(!line.includes(secretText) && !line.includes('hidden'), line);
  });
});

test('serve with a wrong model folder fails before listening, naming what is missing', async () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'distill-serve-'));
  try {
    await assert.rejects(serveStudent({ model: scratch, port: 0 }), (error: unknown) => {
      assert.ok(isUserError(error));
      assert.match(
        error.message,
        /lacks config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/encoder_model\.onnx, onnx\/decoder_model_merged\.onnx/,
      );
      return true;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
