import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessLogEntry } from '../../../core/serving/access-log.js';
import { serveStudent, type RunningServer } from '../../../core/serving/serve-student.js';
import { tinyStudent, tinyStudentMissing, type TinyStudent } from '../inference/tiny-student-fixture.js';
import { openRawConnection, waitUntil, type RawConnection } from './raw-connection.js';

// The untrained tiny student never emits `</s>`, so each text takes all its tokens: a batch of 64
// texts at 400 tokens runs for seconds, long enough to hold the one prediction slot while the test
// queues, refuses and abandons requests behind it (each step waits on the server's own counters).
const slowTokens = 400;
const maxQueuedPredictions = 2;

describe('distill serve: the prediction queue', { skip: tinyStudentMissing() }, () => {
  let fixture: TinyStudent;
  let server: RunningServer;
  const entries: AccessLogEntry[] = [];
  before(async () => {
    fixture = await tinyStudent('random');
    server = await serveStudent({
      model: fixture.exported,
      port: 0,
      student: { maxNewTokens: slowTokens },
      limits: { maxQueuedPredictions },
      accessLog: { format: 'json', write: (line) => entries.push(JSON.parse(line) as AccessLogEntry) },
    });
  });
  after(async () => server?.close());

  const slowBatch = (): string => JSON.stringify({ inputs: Array.from({ length: 64 }, (_, index) => fixture.test[index % fixture.test.length]!.input) });

  function postSlowBatch(): Promise<Response> {
    return fetch(`${server.url}/predict`, { method: 'POST', body: slowBatch() });
  }

  /** A queued request from a client that the test can make disappear. */
  async function queueFromRawClient(): Promise<RawConnection> {
    const connection = await openRawConnection(server.url);
    const body = JSON.stringify({ inputs: [fixture.test[0]!.input] });
    connection.socket.write(`POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return connection;
  }

  test('a full queue answers 503 with Retry-After at once, and clients that leave while queued cause no prediction', async () => {
    const before = server.statistics();
    const running = postSlowBatch();
    await waitUntil(() => server.statistics().running === 1, 'the slow batch runs');
    const queued = [await queueFromRawClient(), await queueFromRawClient()];
    await waitUntil(() => server.statistics().waiting === maxQueuedPredictions, 'both requests wait');

    const refused = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: [fixture.test[1]!.input] }) });
    // Still the first batch running: the refusal came while the queue was full, not after it.
    assert.deepEqual([server.statistics().running, server.statistics().started], [1, before.started + 1]);
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const refusal = (await refused.json()) as { error: { status: number; message: string } };
    assert.equal(refusal.error.status, 503);
    assert.match(refusal.error.message, /the server is busy: .* queue of waiting ones is full; retry after \d+ s/);

    for (const connection of queued) connection.socket.destroy();
    await waitUntil(() => server.statistics().cancelled === before.cancelled + 2, 'both queued requests are dropped');
    assert.equal(server.statistics().started, before.started + 1, 'a prediction started for a client that had gone');

    const answer = await running;
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { predictions: unknown[] }).predictions.length, 64);
    // Had a dropped request stayed in the queue, it would have started as the batch ended.
    assert.deepEqual(server.statistics(), {
      running: 0,
      waiting: 0,
      started: before.started + 1,
      finished: before.finished + 1,
      cancelled: before.cancelled + 2,
      refused: before.refused + 1,
    });

    await waitUntil(() => entries.length >= 4, 'four access-log entries');
    const gone = entries.filter((entry) => entry.outcome === 'cancelled-while-queued');
    assert.equal(gone.length, 2);
    for (const entry of gone) {
      assert.equal(entry.status, null);
      assert.equal(entry.path, '/predict');
      assert.ok(entry.requestBytes > 0);
    }
    assert.deepEqual(entries.map((entry) => entry.status).filter((status) => status !== null).sort(), [200, 503]);
  });

  test('a client that leaves while its prediction runs: the run ends, the answer is dropped and logged', async () => {
    const before = server.statistics();
    const logged = entries.length;
    const connection = await openRawConnection(server.url);
    const body = slowBatch();
    connection.socket.write(`POST /predict HTTP/1.1\r\nhost: test\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await waitUntil(() => server.statistics().running === 1, 'the batch runs');
    connection.socket.destroy();
    await waitUntil(() => entries.length > logged, 'the request is logged');
    assert.deepEqual([entries[logged]!.status, entries[logged]!.outcome], [null, 'client-gone-during-prediction']);
    assert.deepEqual(server.statistics(), { ...before, started: before.started + 1, finished: before.finished + 1 });
  });

  test('after a burst the server serves as before', async () => {
    const response = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: [fixture.test[0]!.input] }) });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { predictions: unknown[] }).predictions.length, 1);
  });
});
