import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { startAnthropicBatchServer, type AnthropicBatchServer } from '../../../support/anthropic-batch-server.js';

// The loopback Message Batches server itself, driven through the official SDK as the adapter and the
// end-to-end kill tests drive it.

const apiKey = 'sk-ant-batch-server-test';

function clientFor(server: AnthropicBatchServer, key = apiKey): Anthropic {
  return new Anthropic({ apiKey: key, authToken: null, baseURL: server.baseUrl, maxRetries: 0, timeout: 10_000 });
}

function requestsFor(prompts: readonly string[], prefix = 'label') {
  return prompts.map((prompt, index) => ({
    custom_id: `${prefix}-${index}`,
    params: { model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user' as const, content: prompt }] },
  }));
}

async function withServer(body: (server: AnthropicBatchServer) => Promise<void>, pollsUntilEnded = 2): Promise<void> {
  const server = await startAnthropicBatchServer({ apiKey, pollsUntilEnded });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

test('create, polls that progress, then results with one line per request and the scripted outcomes', async () => {
  await withServer(async (server) => {
    server.script = (request) =>
      request.prompt === 'b' ? { kind: 'error', errorType: 'overloaded_error' } : { kind: 'answer', text: `Answer: ${request.prompt}` };
    const client = clientFor(server);
    const created = await client.messages.batches.create({ requests: requestsFor(['a', 'b', 'c', 'd']) });
    assert.match(created.id, /^msgbatch_/);
    assert.equal(created.processing_status, 'in_progress');
    assert.equal(created.results_url, null);
    assert.deepEqual(created.request_counts, { canceled: 0, errored: 0, expired: 0, processing: 4, succeeded: 0 });

    const first = await client.messages.batches.retrieve(created.id);
    assert.equal(first.processing_status, 'in_progress');
    assert.deepEqual(first.request_counts, { canceled: 0, errored: 1, expired: 0, processing: 2, succeeded: 1 });
    const second = await client.messages.batches.retrieve(created.id);
    assert.equal(second.processing_status, 'ended');
    assert.deepEqual(second.request_counts, { canceled: 0, errored: 1, expired: 0, processing: 0, succeeded: 3 });
    assert.equal(second.results_url, `${server.baseUrl}/v1/messages/batches/${created.id}/results`);

    const lines = [];
    for await (const line of await client.messages.batches.results(created.id)) lines.push(line);
    assert.deepEqual(
      lines.map((line) => [line.custom_id, line.result.type]),
      [
        ['label-0', 'succeeded'],
        ['label-1', 'errored'],
        ['label-2', 'succeeded'],
        ['label-3', 'succeeded'],
      ],
    );
    const succeeded = lines[0]!.result;
    assert.ok(succeeded.type === 'succeeded');
    assert.deepEqual(succeeded.message.content, [{ type: 'text', text: 'Answer: a' }]);
    const errored = lines[1]!.result;
    assert.ok(errored.type === 'errored');
    assert.equal(errored.error.error.type, 'overloaded_error');
    assert.equal(server.batchesCreated, 1);
    assert.equal(server.submissionsFor('a'), 1);
    assert.equal(server.maxSubmissions, 1);
  });
});

test('expire keeps the given number of results and expires the rest; counters count submissions by messages', async () => {
  await withServer(async (server) => {
    const client = clientFor(server);
    const created = await client.messages.batches.create({ requests: requestsFor(['a', 'b', 'c', 'd']) });
    server.expire(created.id, 2);
    const ended = await client.messages.batches.retrieve(created.id);
    assert.equal(ended.processing_status, 'ended');
    assert.deepEqual(ended.request_counts, { canceled: 0, errored: 0, expired: 2, processing: 0, succeeded: 2 });
    const types = [];
    for await (const line of await client.messages.batches.results(created.id)) types.push(line.result.type);
    assert.deepEqual(types, ['succeeded', 'succeeded', 'expired', 'expired']);

    // The same messages under other custom ids count as the same request submitted again.
    await client.messages.batches.create({ requests: requestsFor(['c', 'd'], 'again') });
    assert.equal(server.submissionsFor('c'), 2);
    assert.equal(server.submissionsFor('a'), 1);
    assert.equal(server.submissionsOf([{ role: 'user', content: 'd' }]), 2);
    assert.equal(server.maxSubmissions, 2);
    assert.equal(server.batchesCreated, 2);
    assert.equal(server.requestsSubmitted, 6);
  });
});

test('list pages newest first with limit, after_id and before_id, and the SDK pages through all of it', async () => {
  await withServer(async (server) => {
    const client = clientFor(server);
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1)
      ids.push((await client.messages.batches.create({ requests: requestsFor([`p${index}`]) })).id);
    const newestFirst = [...ids].reverse();

    const page = await client.messages.batches.list({ limit: 2 });
    assert.deepEqual(
      page.data.map((batch) => batch.id),
      newestFirst.slice(0, 2),
    );
    assert.equal(page.has_more, true);
    assert.equal(page.first_id, newestFirst[0]);
    assert.equal(page.last_id, newestFirst[1]);
    const older = await client.messages.batches.list({ limit: 2, after_id: newestFirst[1]! });
    assert.deepEqual(
      older.data.map((batch) => batch.id),
      newestFirst.slice(2, 4),
    );
    const newer = await client.messages.batches.list({ limit: 2, before_id: newestFirst[4]! });
    assert.deepEqual(
      newer.data.map((batch) => batch.id),
      newestFirst.slice(2, 4),
    );
    assert.equal(newer.has_more, true);

    const all: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 2 })) all.push(batch.id);
    assert.deepEqual(all, newestFirst);
  });
});

test('cancel: canceling, then ended with the unfinished requests canceled', async () => {
  await withServer(async (server) => {
    const client = clientFor(server);
    const created = await client.messages.batches.create({ requests: requestsFor(['a', 'b', 'c', 'd']) });
    await client.messages.batches.retrieve(created.id);
    const canceling = await client.messages.batches.cancel(created.id);
    assert.equal(canceling.processing_status, 'canceling');
    assert.notEqual(canceling.cancel_initiated_at, null);
    const ended = await client.messages.batches.retrieve(created.id);
    assert.equal(ended.processing_status, 'ended');
    assert.deepEqual(ended.request_counts, { canceled: 2, errored: 0, expired: 0, processing: 0, succeeded: 2 });
  });
});

test('a forgotten batch is 404 everywhere and leaves the list; a wrong key is the recorded 401; faults answer recorded errors', async () => {
  await withServer(async (server) => {
    const client = clientFor(server);
    const created = await client.messages.batches.create({ requests: requestsFor(['a']) });
    server.forget(created.id);
    await assert.rejects(client.messages.batches.retrieve(created.id), (error: unknown) => error instanceof Anthropic.NotFoundError);
    await assert.rejects(client.messages.batches.cancel(created.id), (error: unknown) => error instanceof Anthropic.NotFoundError);
    await assert.rejects(client.messages.batches.results(created.id), (error: unknown) => error instanceof Anthropic.NotFoundError);
    assert.deepEqual((await client.messages.batches.list()).data, []);

    await assert.rejects(
      clientFor(server, 'sk-ant-wrong').messages.batches.list(),
      (error: unknown) => error instanceof Anthropic.AuthenticationError,
    );

    server.fault = (call) => (call.route === 'create' ? 'anthropic-error-overloaded' : null);
    await assert.rejects(
      client.messages.batches.create({ requests: requestsFor(['b']) }),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 529,
    );
    assert.equal(server.batchesCreated, 1);
    assert.equal(server.submissionsFor('b'), 0);
  });
});

test('the API refusals: duplicate custom ids, a body over the byte limit', async () => {
  const server = await startAnthropicBatchServer({ maxBodyBytes: 2_000 });
  try {
    const client = clientFor(server);
    const duplicate = [...requestsFor(['a']), ...requestsFor(['b'])];
    await assert.rejects(client.messages.batches.create({ requests: duplicate }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.match(error.message, /not unique/);
      return true;
    });
    await assert.rejects(
      client.messages.batches.create({ requests: requestsFor(['x'.repeat(3_000)]) }),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 413,
    );
    assert.equal(server.batchesCreated, 0);
  } finally {
    await server.close();
  }
});

/** Sends the first `bytes` of a request body, then drops the connection, as a killed client does. */
function sendCutShort(server: AnthropicBatchServer, path: string, body: string, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    const request = http.request(`${server.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    request.on('error', () => resolve());
    request.write(body.slice(0, bytes), () => {
      request.destroy();
      setTimeout(resolve, 50);
    });
  });
}

test('a client killed mid-upload creates nothing, one killed mid-download changes nothing, and the server serves on', async () => {
  await withServer(async (server) => {
    const body = JSON.stringify({ requests: requestsFor(['a', 'b']) });
    await sendCutShort(server, '/v1/messages/batches', body, 40);
    assert.equal(server.batchesCreated, 0);
    assert.equal(server.submissionsFor('a'), 0);

    const client = clientFor(server);
    const created = await client.messages.batches.create({
      requests: requestsFor(Array.from({ length: 2_000 }, (_, index) => `p${index}`)),
    });
    await client.messages.batches.retrieve(created.id);
    // Read one chunk of the results, then drop the connection.
    await new Promise<void>((resolve) => {
      http.get(`${server.baseUrl}/v1/messages/batches/${created.id}/results`, { headers: { 'x-api-key': apiKey } }, (response) => {
        response.once('data', () => {
          response.destroy();
          setTimeout(resolve, 50);
        });
      });
    });
    let lines = 0;
    for await (const line of await client.messages.batches.results(created.id)) if (line.result.type === 'succeeded') lines += 1;
    assert.equal(lines, 2_000);
    assert.equal(server.batchesCreated, 1);
  }, 1);
});
