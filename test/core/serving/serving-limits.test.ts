import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { AccessLogEntry } from '../../../core/serving/access-log.js';
import { tinyStudent, tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { openRawConnection, waitUntil } from './raw-connection.js';
import { serveDuringSuite } from './served-student.js';

const maxBodyBytes = 16 * 1024;
const bodyTimeoutMilliseconds = 1000;
const headersTimeoutMilliseconds = 1000;

/** What a client that keeps sending a chunked body saw. */
interface StreamingResult {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
  /** Bytes the client had handed to its socket when the answer came. */
  readonly writtenBeforeAnswer: number;
}

/**
 * A real HTTP client that streams `/predict` a chunked body of up to `totalBytes` as fast as the
 * connection takes it (honouring backpressure), and goes on until the answer arrives.
 */
function streamChunkedBody(url: string, totalBytes: number): Promise<StreamingResult> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    let answered = false;
    const request = httpRequest(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    const pump = (): void => {
      while (!answered && written < totalBytes) {
        written += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      if (!answered) request.end();
    };
    request.on('response', (response) => {
      answered = true;
      const writtenBeforeAnswer = written;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () =>
        resolve({ status: response.statusCode!, connection: response.headers.connection, body, writtenBeforeAnswer }),
      );
      response.on('error', reject);
    });
    // Writes after the server closed fail; the answer, which came first, is what the test looks at.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    pump();
  });
}

describe('distill serve: body size and time limits', { skip: tinyStudentMissing() }, () => {
  const served = serveDuringSuite('trained', { limits: { maxBodyBytes, bodyTimeoutMilliseconds, headersTimeoutMilliseconds } });

  async function logEntryFor(count: number): Promise<AccessLogEntry> {
    await waitUntil(() => served.logLines.length >= count, `${count} access-log entries`);
    return served.entries()[count - 1]!;
  }

  test('a huge Content-Length is answered 413 before any body is sent, and the connection closed', async () => {
    const logged = served.logLines.length;
    const connection = await openRawConnection(served.server.url);
    connection.socket.write(
      `POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${200 * 1024 * 1024}\r\n\r\n`,
    );
    const text = await connection.waitFor(/\r\n\r\n[^]*\}\}$/);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /"message":"the body is larger than 16384 bytes"/);
    await connection.closed;
    const entry = await logEntryFor(logged + 1);
    assert.deepEqual([entry.status, entry.requestBytes], [413, 0]);
  });

  test('a client waiting for 100 Continue gets the 413 instead, and never a 100', async () => {
    const connection = await openRawConnection(served.server.url);
    connection.socket.write(`POST /predict HTTP/1.1\r\nhost: test\r\nexpect: 100-continue\r\ncontent-length: ${200 * 1024 * 1024}\r\n\r\n`);
    const text = await connection.waitFor(/\}\}$/);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(text, /100 Continue/);
    await connection.closed;
  });

  test('a chunked body that keeps streaming is cut off at about the limit: 413, connection closed, 200 MB never read', async () => {
    const logged = served.logLines.length;
    const clientWouldSend = 200 * 1024 * 1024;
    const result = await streamChunkedBody(served.server.url, clientWouldSend);
    assert.equal(result.status, 413);
    assert.equal(result.connection, 'close');
    assert.deepEqual(JSON.parse(result.body), { error: { status: 413, message: 'the body is larger than 16384 bytes' } });
    // The client could only fill the socket buffers on both sides before the answer came.
    assert.ok(result.writtenBeforeAnswer < 32 * 1024 * 1024, `the client wrote ${result.writtenBeforeAnswer} bytes before the 413`);
    // What the server read is one chunk past the limit at most.
    const entry = await logEntryFor(logged + 1);
    assert.equal(entry.status, 413);
    assert.ok(
      entry.requestBytes > maxBodyBytes && entry.requestBytes <= maxBodyBytes + 128 * 1024,
      `the server read ${entry.requestBytes} bytes`,
    );
  });

  test('a body sent slowly is answered 408 and the connection closed at the deadline', async () => {
    const logged = served.logLines.length;
    const connection = await openRawConnection(served.server.url);
    const announced = 200;
    connection.socket.write(
      `POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${announced}\r\n\r\n`,
    );
    const start = performance.now();
    let sent = 0;
    // An object, not a `let`: TypeScript does not see the callback set it.
    const ended = { closed: false };
    void connection.closed.then(() => (ended.closed = true));
    // One byte every 50 ms: the whole body would take 10 s.
    while (!ended.closed && sent < announced) {
      connection.socket.write('x');
      sent++;
      await delay(50);
    }
    const closedAt = await connection.closed;
    assert.ok(sent < announced, 'the server waited for the whole dribbled body');
    assert.ok(closedAt - start < bodyTimeoutMilliseconds + 3000, `closed after ${Math.round(closedAt - start)} ms`);
    assert.match(connection.received(), /^HTTP\/1\.1 408 /);
    assert.match(connection.received(), /\r\nconnection: close\r\n/i);
    assert.match(connection.received(), /"message":"the body did not arrive within 1000 ms"/);
    const entry = await logEntryFor(logged + 1);
    assert.equal(entry.status, 408);
    assert.ok(entry.requestBytes > 0 && entry.requestBytes < announced);
  });

  test('headers sent slowly are answered 408 and the connection closed', async () => {
    const logged = served.logLines.length;
    const connection = await openRawConnection(served.server.url);
    const start = performance.now();
    connection.socket.write('POST /predict HTTP/1.1\r\nhost: test\r\n');
    const ended = { closed: false };
    void connection.closed.then(() => (ended.closed = true));
    for (let index = 0; !ended.closed && index < 200; index++) {
      connection.socket.write('x');
      await delay(50);
    }
    const closedAt = await connection.closed;
    assert.ok(closedAt - start < headersTimeoutMilliseconds + 3000, `closed after ${Math.round(closedAt - start)} ms`);
    assert.match(connection.received(), /^HTTP\/1\.1 408 /);
    assert.match(connection.received(), /"message":"the request headers did not arrive within 1000 ms"/);
    const entry = await logEntryFor(logged + 1);
    assert.deepEqual([entry.status, entry.outcome], [408, 'headers-timeout']);
  });

  test('a client that leaves in the middle of its body is logged as gone, and nothing is predicted', async () => {
    const logged = served.logLines.length;
    const before = served.server.statistics();
    const connection = await openRawConnection(served.server.url);
    connection.socket.write(
      'POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"inputs": [',
    );
    await delay(100);
    connection.socket.destroy();
    const entry = await logEntryFor(logged + 1);
    assert.deepEqual([entry.status, entry.outcome, entry.requestBytes], [null, 'client-gone-while-sending', 12]);
    assert.equal(served.server.statistics().started, before.started);
  });

  test('a malformed chunked body is answered 400 in JSON, logged once, and the connection closed', async () => {
    const logged = served.logLines.length;
    const connection = await openRawConnection(served.server.url);
    connection.socket.write('POST /predict HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"inp\r\nnot-a-size\r\n');
    await connection.closed;
    assert.match(connection.received(), /^HTTP\/1\.1 400 /);
    assert.match(connection.received(), /"message":"the request body is not valid HTTP \(HPE_INVALID_CHUNK_SIZE\)"/);
    const entry = await logEntryFor(logged + 1);
    assert.deepEqual([entry.method, entry.path, entry.status, entry.outcome], ['POST', '/predict', 400, 'malformed-request']);
    await delay(100);
    assert.equal(served.logLines.length, logged + 1);
  });

  test('the server still serves after all that', async () => {
    const fixture = await tinyStudent('trained');
    const response = await fetch(`${served.server.url}/predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [fixture.test[0]!.input] }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { predictions: [{ label: fixture.reference.predict_texts[0]!.trim() }] });
  });
});

describe('distill serve: the connection limit', { skip: tinyStudentMissing() }, () => {
  const served = serveDuringSuite('trained', { limits: { maxConnections: 2 } });

  test('a connection beyond the limit is closed on arrival and logged; one that frees makes room', async () => {
    const held = [await openRawConnection(served.server.url), await openRawConnection(served.server.url)];
    // The server counts a connection once it has accepted it; a request on each makes sure it has.
    for (const connection of held) connection.socket.write('GET /health HTTP/1.1\r\nhost: test\r\n\r\n');
    await Promise.all(held.map((connection) => connection.waitFor(/"status":"ok"/)));
    const extra = await openRawConnection(served.server.url);
    extra.socket.write('GET /health HTTP/1.1\r\nhost: test\r\n\r\n');
    await extra.closed;
    assert.equal(extra.received(), '');
    await waitUntil(() => served.entries().some((entry) => entry.outcome === 'too-many-connections'), 'the dropped connection is logged');
    const dropped = served.entries().find((entry) => entry.outcome === 'too-many-connections')!;
    assert.deepEqual([dropped.status, dropped.remoteAddress], [null, '127.0.0.1']);

    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server learns of the close a moment later; until then a new connection is still dropped.
    let status: number | undefined;
    await waitUntil(
      () => status === 200,
      'a new connection is served',
      10_000,
      async () => {
        status = await fetch(`${served.server.url}/health`, { headers: { connection: 'close' } }).then(
          (response) => response.status,
          () => undefined,
        );
      },
    );
    held[1]!.socket.destroy();
  });
});
