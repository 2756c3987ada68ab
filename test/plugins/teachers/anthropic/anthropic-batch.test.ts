import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isUserError, UserError } from '../../../../core/errors/user-error.js';
import { TeacherRetryableError, type Teacher, type TeacherRequest } from '../../../../core/plugins/kinds/teacher.js';
import {
  BatchNotFoundError,
  type BatchItem,
  type BatchResult,
  type TeacherBatchApi,
} from '../../../../core/plugins/kinds/teacher-batch.js';
import { anthropicTeacher } from '../../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { startAnthropicBatchServer, type AnthropicBatchServer } from '../../../support/anthropic-batch-server.js';
import { startProviderServer } from '../../../support/provider-server.js';
import { testDependencies } from '../../../support/test-dependencies.js';

// The anthropic teacher's batch API against the loopback Message Batches server, through the real SDK.

const apiKey = 'sk-ant-batch-test-123456';
const teacherOptions = { model: 'claude-3-5-haiku-latest', max_tokens: 64, temperature: 0.5, system_prompt: 'Answer yes or no.' };

function requestFor(prompt: string): TeacherRequest {
  return { exampleId: prompt, split: 'train', messages: [{ role: 'user', content: prompt }] };
}

function itemsFor(label: string, prompts: readonly string[]): BatchItem[] {
  return prompts.map((prompt, index) => ({ customId: `${label}-${index}`, request: requestFor(prompt) }));
}

const signal = new AbortController().signal;

async function teacherOn(server: { baseUrl: string }, key = apiKey): Promise<Teacher> {
  return anthropicTeacher.create({ ...teacherOptions, base_url: server.baseUrl, api_key: key }, testDependencies());
}

async function withBatchServer(
  body: (server: AnthropicBatchServer, batch: TeacherBatchApi) => Promise<void>,
  pollsUntilEnded = 2,
): Promise<void> {
  const server = await startAnthropicBatchServer({ apiKey, pollsUntilEnded });
  try {
    const teacher = await teacherOn(server);
    assert.ok(teacher.batch, 'the anthropic teacher offers a batch API');
    await body(server, teacher.batch);
  } finally {
    await server.close();
  }
}

async function collect(batch: TeacherBatchApi, batchId: string): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for await (const result of batch.results(batchId, signal)) results.push(result);
  return results;
}

test('submit → status → results: the params are what complete sends, answers parse as in real time with usage', async () => {
  // What a real-time call sends, to compare the batch's params with.
  const realtime = await startProviderServer('anthropic');
  let realtimeBody: Record<string, unknown>;
  try {
    await (await teacherOn(realtime)).complete(requestFor('Is the sky blue?'), signal);
    realtimeBody = realtime.requests[0]!.body;
  } finally {
    await realtime.close();
  }
  await withBatchServer(async (server, batch) => {
    server.script = (request) => ({ kind: 'answer', text: `Answer: ${request.prompt}`, usage: { promptTokens: 21, completionTokens: 3 } });
    const batchId = await batch.submit(itemsFor('run1', ['Is the sky blue?', 'Is grass red?']), 'run1', signal);
    const seen = server.batch(batchId)!;
    assert.deepEqual(seen.customIds, ['run1-0', 'run1-1']);
    assert.deepEqual(seen.params[0], realtimeBody);
    assert.deepEqual(Object.keys(seen.params[0]).sort(), ['max_tokens', 'messages', 'model', 'system', 'temperature']);

    assert.deepEqual(await batch.status(batchId, signal), {
      state: 'running',
      providerState: 'in_progress',
      counts: { total: 2, succeeded: 1, failed: 0 },
    });
    assert.deepEqual(await batch.status(batchId, signal), {
      state: 'ended',
      providerState: 'ended',
      counts: { total: 2, succeeded: 2, failed: 0 },
    });
    assert.deepEqual(await collect(batch, batchId), [
      {
        customId: 'run1-0',
        status: 'answered',
        response: {
          text: 'Answer: Is the sky blue?',
          usage: { promptTokens: 21, completionTokens: 3 },
          model: 'claude-3-5-haiku-20241022',
          finishReason: 'end_turn',
        },
      },
      {
        customId: 'run1-1',
        status: 'answered',
        response: {
          text: 'Answer: Is grass red?',
          usage: { promptTokens: 21, completionTokens: 3 },
          model: 'claude-3-5-haiku-20241022',
          finishReason: 'end_turn',
        },
      },
    ]);
    assert.equal(server.batchesCreated, 1);
  });
});

test('itemBytes is the byte length of the request object as sent, multi-byte text included', async () => {
  await withBatchServer(async (server, batch) => {
    const items = itemsFor('bytes', ['Ist der Himmel blau? Ça dépend — 空は青い', 'plain']);
    const batchId = await batch.submit(items, 'bytes', signal);
    const seen = server.batch(batchId)!;
    items.forEach((item, index) => {
      const sent = Buffer.byteLength(JSON.stringify({ custom_id: seen.customIds[index], params: seen.params[index] }));
      assert.equal(batch.itemBytes(item), sent);
    });
    assert.ok(batch.itemBytes(items[0]!) > JSON.stringify({ custom_id: 'bytes-0', params: seen.params[0] }).length);
  });
});

test('find: a batch submitted before a kill is found by time and size; other sizes and later times are not', async () => {
  await withBatchServer(async (server, batch) => {
    const before = Date.now();
    await batch.submit(itemsFor('other', ['x', 'y', 'z']), 'other', signal);
    const batchId = await batch.submit(itemsFor('mine', ['a', 'b']), 'mine', signal);
    assert.equal(await batch.find('mine', 2, before, signal), batchId);
    assert.equal(await batch.find('mine', 4, before, signal), null);
    assert.equal(await batch.find('mine', 2, Date.now() + 3_600_000, signal), null);
    assert.equal(server.batchesCreated, 2);
  });
});

test('find: a submit cut off after Anthropic accepted the batch (the id never read) finds that batch', async () => {
  await withBatchServer(async (server, batch) => {
    server.createAnswerDelay = 300;
    const before = Date.now();
    const controller = new AbortController();
    const submitting = batch.submit(itemsFor('lost', ['a', 'b']), 'lost', controller.signal);
    while (server.batchesCreated === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await assert.rejects(submitting);
    server.createAnswerDelay = 0;
    assert.equal(await batch.find('lost', 2, before, signal), server.batchIds()[0]);
    assert.equal(server.batchesCreated, 1);
  });
});

test('find among several of the same size: the one whose results carry the label; ids on record are left out; running ones that cannot be told apart are refused', async () => {
  await withBatchServer(async (server, batch) => {
    const before = Date.now();
    const earlier = await batch.submit(itemsFor('earlier', ['a', 'b']), 'earlier', signal);
    const latest = await batch.submit(itemsFor('latest', ['c', 'd']), 'latest', signal);
    // Both running and neither on record: nothing tells them apart yet, and collecting the wrong one
    // would pay for the other twice, so the run is told to wait until they end.
    await assert.rejects(batch.find('latest', 2, before, signal), (error: unknown) => {
      assert.ok(isUserError(error));
      assert.match(error.message, /2 running Message Batches of 2 requests/);
      return true;
    });
    // With the earlier one on record, the only other candidate is the one looked for.
    assert.equal(await batch.find('latest', 2, before, signal, new Set([earlier])), latest);
    server.expire(earlier, 2);
    server.expire(latest, 2);
    // Ended, their results' custom ids name their submission.
    assert.equal(await batch.find('earlier', 2, before, signal), earlier);
    assert.equal(await batch.find('latest', 2, before, signal), latest);
    assert.equal(await batch.find('nobody', 2, before, signal), null);
    assert.equal(server.batchesCreated, 2);
  });
});

test('an expired batch: the finished half comes back answered, the other half as retryable failures', async () => {
  await withBatchServer(async (server, batch) => {
    const batchId = await batch.submit(itemsFor('half', ['a', 'b', 'c', 'd']), 'half', signal);
    server.expire(batchId, 2);
    const status = await batch.status(batchId, signal);
    assert.equal(status.state, 'expired');
    assert.deepEqual(status.counts, { total: 4, succeeded: 2, failed: 2 });
    const results = await collect(batch, batchId);
    assert.deepEqual(
      results.map((result) => [result.customId, result.status, result.status === 'failed' ? result.retryable : null]),
      [
        ['half-0', 'answered', null],
        ['half-1', 'answered', null],
        ['half-2', 'failed', true],
        ['half-3', 'failed', true],
      ],
    );
    assert.match((results[2] as { reason: string }).reason, /^expired/);
  }, 4);
});

test('errored lines: overloaded and server errors are retryable, an invalid request is not', async () => {
  await withBatchServer(async (server, batch) => {
    const errors: Record<string, string> = { a: 'overloaded_error', b: 'api_error', c: 'invalid_request_error' };
    server.script = (request) =>
      errors[request.prompt]
        ? { kind: 'error', errorType: errors[request.prompt]!, message: `failed: ${request.prompt}` }
        : { kind: 'answer', text: 'yes' };
    const batchId = await batch.submit(itemsFor('errors', ['a', 'b', 'c', 'd']), 'errors', signal);
    server.expire(batchId, 4);
    const status = await batch.status(batchId, signal);
    assert.deepEqual(status, { state: 'ended', providerState: 'ended', counts: { total: 4, succeeded: 1, failed: 3 } });
    assert.deepEqual(await collect(batch, batchId), [
      { customId: 'errors-0', status: 'failed', reason: 'overloaded_error: failed: a', retryable: true },
      { customId: 'errors-1', status: 'failed', reason: 'api_error: failed: b', retryable: true },
      { customId: 'errors-2', status: 'failed', reason: 'invalid_request_error: failed: c', retryable: false },
      {
        customId: 'errors-3',
        status: 'answered',
        response: {
          text: 'yes',
          usage: { promptTokens: 47, completionTokens: 27 },
          model: 'claude-3-5-haiku-20241022',
          finishReason: 'end_turn',
        },
      },
    ]);
  });
});

test('a cancelled batch: state cancelled, the unprocessed requests retryable', async () => {
  await withBatchServer(async (_, batch) => {
    const batchId = await batch.submit(itemsFor('cancel', ['a', 'b']), 'cancel', signal);
    await batch.status(batchId, signal);
    await batch.cancel(batchId, signal);
    const status = await batch.status(batchId, signal);
    assert.equal(status.state, 'cancelled');
    const failed = (await collect(batch, batchId)).filter((result) => result.status === 'failed');
    assert.deepEqual(
      failed.map((result) => [result.customId, result.retryable]),
      [['cancel-1', true]],
    );
  });
});

test('a batch id the provider does not know (or no longer knows) is a BatchNotFoundError everywhere', async () => {
  await withBatchServer(async (server, batch) => {
    const isNotFound = (batchId: string) => (error: unknown) => error instanceof BatchNotFoundError && error.batchId === batchId;
    await assert.rejects(batch.status('msgbatch_unknown', signal), isNotFound('msgbatch_unknown'));
    await assert.rejects(batch.cancel('msgbatch_unknown', signal), isNotFound('msgbatch_unknown'));
    await assert.rejects(collect(batch, 'msgbatch_unknown'), isNotFound('msgbatch_unknown'));
    const batchId = await batch.submit(itemsFor('gone', ['a']), 'gone', signal);
    server.forget(batchId);
    await assert.rejects(batch.status(batchId, signal), (error: unknown) => {
      assert.ok(isNotFound(batchId)(error));
      assert.match((error as Error).message, /Anthropic knows no Message Batch msgbatch_\w+ \(404\)/);
      return true;
    });
  });
});

test('a rejected key is a clear UserError that names the fix and never the key', async () => {
  const server = await startAnthropicBatchServer({ apiKey: 'sk-ant-the-right-one' });
  try {
    const wrongKey = 'sk-ant-wrong-key-987654';
    const batch = (await teacherOn(server, wrongKey)).batch!;
    for (const call of [() => batch.submit(itemsFor('k', ['a']), 'k', signal), () => batch.status('msgbatch_x', signal)]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /Anthropic rejected the API key \(401\)/);
        assert.match(error.problems[0]!.fix ?? '', /api_key/);
        assert.ok(!JSON.stringify(error.problems).includes(wrongKey));
        return true;
      });
    }
    assert.equal(server.batchesCreated, 0);
  } finally {
    await server.close();
  }
});

test('a download cut short, or a line that is not JSON, is retryable after the lines that did arrive', async () => {
  await withBatchServer(async (server, batch) => {
    const batchId = await batch.submit(itemsFor('cut', ['a', 'b', 'c']), 'cut', signal);
    server.expire(batchId, 3);
    server.cutResultsAfter = 2;
    const arrived: string[] = [];
    await assert.rejects(
      async () => {
        for await (const result of batch.results(batchId, signal)) arrived.push(result.customId);
      },
      (error: unknown) => error instanceof TeacherRetryableError && /cannot reach Anthropic/.test(error.message),
    );
    assert.deepEqual(arrived, ['cut-0', 'cut-1']);

    server.cutResultsAfter = null;
    server.script = (request) => (request.prompt === 'e' ? { kind: 'malformed' } : { kind: 'answer', text: 'yes' });
    const malformed = await batch.submit(itemsFor('bad', ['d', 'e']), 'bad', signal);
    server.expire(malformed, 2);
    await assert.rejects(
      collect(batch, malformed),
      (error: unknown) => error instanceof TeacherRetryableError && /malformed/.test(error.message),
    );
  });
});

test("results on another origin than the teacher's base_url are refused: the key is never sent there", async () => {
  const elsewhere: http.IncomingHttpHeaders[] = [];
  const other = http.createServer((incoming, outgoing) => {
    elsewhere.push(incoming.headers);
    outgoing.end('{}');
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    await withBatchServer(async (server, batch) => {
      const batchId = await batch.submit(itemsFor('away', ['a']), 'away', signal);
      server.expire(batchId, 1);
      server.resultsOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      await assert.rejects(collect(batch, batchId), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /has its results at http:\/\/127\.0\.0\.1:\d+, not at the teacher's base_url/);
        return true;
      });
      assert.equal(elsewhere.length, 0);
    });
  } finally {
    other.close();
  }
});

test('an aborted submit rejects with the abort reason', async () => {
  await withBatchServer(async (_, batch) => {
    const controller = new AbortController();
    const reason = new Error('stopped by the user');
    controller.abort(reason);
    await assert.rejects(batch.submit(itemsFor('stop', ['a']), 'stop', controller.signal), (error: unknown) => error === reason);
  });
});

test("a batch over Anthropic's 256 MB or 100,000 requests is refused before anything is sent", async () => {
  await withBatchServer(async (server, batch) => {
    assert.deepEqual(batch.limits, { maxRequests: 100_000, maxBytes: 255_000_000 });
    const huge: BatchItem = { customId: 'huge-0', request: requestFor('x'.repeat(256_000_000)) };
    assert.ok(batch.itemBytes(huge) > batch.limits.maxBytes);
    await assert.rejects(batch.submit([huge], 'huge', signal), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /a Message Batch of 1 request is 256\.0 MB, over Anthropic's limit of 256 MB per batch/);
      assert.match(error.problems[0]!.fix ?? '', /shorten its input/);
      return true;
    });
    const many = itemsFor(
      'many',
      Array.from({ length: 100_001 }, (_, index) => `p${index}`),
    );
    await assert.rejects(
      batch.submit(many, 'many', signal),
      (error: unknown) => error instanceof UserError && /100001 requests is over Anthropic's limit of 100000/.test(error.message),
    );
    assert.equal(server.calls.length, 0);
  });
});

test('the descriptor states the batch price share and the zero-data-retention notice', () => {
  assert.equal(anthropicTeacher.accounting?.({ model: 'claude-3-5-haiku-latest' }).batchPriceShare, 0.5);
  assert.match(anthropicTeacher.batchNotice ?? '', /not eligible for zero data retention/);
});
