import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { openRawConnection, waitUntil, type RawConnection } from './raw-connection.js';
import { serveDuringSuite } from './served-student.js';

// The untrained tiny student never emits `</s>`, so each text takes all its tokens: a batch of 64
// texts at 400 tokens runs for seconds, long enough to hold the one prediction slot while the test
// queues, refuses and abandons requests behind it (each step waits on the server's own counters).
const slowTokens = 400;
const maxQueuedPredictions = 2;

describe('distill serve: the prediction queue', { skip: tinyStudentMissing() }, () => {
  const served = serveDuringSuite('random', { maxNewTokens: slowTokens, limits: { maxQueuedPredictions } });

  const slowBatch = (): string =>
    JSON.stringify({ inputs: Array.from({ length: 64 }, (_, index) => served.fixture.test[index % served.fixture.test.length]!.input) });

  function postSlowBatch(): Promise<Response> {
    return fetch(`${served.server.url}/predict`, { method: 'POST', body: slowBatch() });
  }

  /** A queued request from a client that the test can make disappear. */
  async function queueFromRawClient(): Promise<RawConnection> {
    const connection = await openRawConnection(served.server.url);
    const body = JSON.stringify({ inputs: [served.fixture.test[0]!.input] });
    connection.socket.write(
      `POST /predict HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    return connection;
  }

  test('a full queue answers 503 with Retry-After at once, and clients that leave while queued cause no prediction', async () => {
    const before = served.server.statistics();
    const running = postSlowBatch();
    await waitUntil(() => served.server.statistics().running === 1, 'the slow batch runs');
    const queued = [await queueFromRawClient(), await queueFromRawClient()];
    await waitUntil(() => served.server.statistics().waiting === maxQueuedPredictions, 'both requests wait');

    const refused = await fetch(`${served.server.url}/predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [served.fixture.test[1]!.input] }),
    });
    // Still the first batch running: the refusal came while the queue was full, not after it.
    assert.deepEqual([served.server.statistics().running, served.server.statistics().started], [1, before.started + 1]);
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    const refusal = (await refused.json()) as { error: { status: number; message: string } };
    assert.equal(refusal.error.status, 503);
    assert.match(refusal.error.message, /the server is busy: .* queue of waiting ones is full; retry after \d+ s/);

    for (const connection of queued) connection.socket.destroy();
    await waitUntil(() => served.server.statistics().cancelled === before.cancelled + 2, 'both queued requests are dropped');
    assert.equal(served.server.statistics().started, before.started + 1, 'a prediction started for a client that had gone');

    const answer = await running;
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { predictions: unknown[] }).predictions.length, 64);
    // Had a dropped request stayed in the queue, it would have started as the batch ended.
    assert.deepEqual(served.server.statistics(), {
      running: 0,
      waiting: 0,
      started: before.started + 1,
      finished: before.finished + 1,
      cancelled: before.cancelled + 2,
      refused: before.refused + 1,
    });

    await waitUntil(() => served.logLines.length >= 4, 'four access-log entries');
    const entries = served.entries();
    const gone = entries.filter((entry) => entry.outcome === 'cancelled-while-queued');
    assert.equal(gone.length, 2);
    for (const entry of gone) {
      assert.equal(entry.status, null);
      assert.equal(entry.path, '/predict');
      assert.ok(entry.requestBytes > 0);
    }
    assert.deepEqual(
      entries
        .map((entry) => entry.status)
        .filter((status) => status !== null)
        .sort(),
      [200, 503],
    );
  });

  test('a client that leaves while its prediction runs: the run ends, the answer is dropped and logged', async () => {
    const before = served.server.statistics();
    const logged = served.logLines.length;
    const connection = await openRawConnection(served.server.url);
    const body = slowBatch();
    connection.socket.write(`POST /predict HTTP/1.1\r\nhost: test\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await waitUntil(() => served.server.statistics().running === 1, 'the batch runs');
    connection.socket.destroy();
    await waitUntil(() => served.logLines.length > logged, 'the request is logged');
    const entry = served.entries()[logged]!;
    assert.deepEqual([entry.status, entry.outcome], [null, 'client-gone-during-prediction']);
    assert.deepEqual(served.server.statistics(), { ...before, started: before.started + 1, finished: before.finished + 1 });
  });

  test('after a burst the server serves as before', async () => {
    const response = await fetch(`${served.server.url}/predict`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [served.fixture.test[0]!.input] }),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { predictions: unknown[] }).predictions.length, 1);
  });
});
