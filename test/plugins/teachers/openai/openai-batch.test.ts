import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { UserError } from '../../../../core/errors/user-error.js';
import {
  BatchNotFoundError,
  type BatchItem,
  type BatchResult,
  type TeacherBatchApi,
} from '../../../../core/plugins/kinds/teacher-batch.js';
import { TeacherRetryableError, type Teacher, type TeacherResponse } from '../../../../core/plugins/kinds/teacher.js';
import { openAiBatchApi } from '../../../../plugins/teachers/openai/openai-batch.js';
import { openAiTeacher } from '../../../../plugins/teachers/openai/openai-teacher.js';
import { startOpenAiBatchServer, type OpenAiBatchServer, type OpenAiBatchServerOptions } from '../../../support/openai-batch-server.js';
import { startProviderServer } from '../../../support/provider-server.js';
import { testDependencies } from '../../../support/test-dependencies.js';

const apiKey = 'sk-batch-test-123456789';
const signal = new AbortController().signal;

function itemsOf(prompts: readonly string[]): BatchItem[] {
  return prompts.map((prompt, index) => ({
    customId: `item-${index}`,
    request: { exampleId: `e${index}`, split: 'train', messages: [{ role: 'user', content: prompt }] },
  }));
}

async function teacherAgainst(baseUrl: string, options: Record<string, unknown> = {}): Promise<Teacher> {
  return openAiTeacher.create({ model: 'gpt-4o-mini', base_url: baseUrl, api_key: apiKey, ...options }, testDependencies());
}

async function collect(api: TeacherBatchApi, batchId: string): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for await (const result of api.results(batchId, signal)) results.push(result);
  return results.sort((left, right) => left.customId.localeCompare(right.customId));
}

async function withBatchServer(
  options: OpenAiBatchServerOptions,
  body: (server: OpenAiBatchServer, api: TeacherBatchApi) => Promise<void>,
  teacherOptions: Record<string, unknown> = {},
): Promise<void> {
  const server = await startOpenAiBatchServer({ apiKey, ...options });
  try {
    const teacher = await teacherAgainst(server.baseUrl, teacherOptions);
    assert.ok(teacher.batch, 'the openai teacher offers batch mode');
    await body(server, teacher.batch);
  } finally {
    await server.close();
  }
}

test('submit, status and results round trip: each line is the body complete sends, each answer reads as complete reads it', async () => {
  const teacherOptions = { system_prompt: 'Be brief.', max_tokens: 64, temperature: 0.2 };
  const usage = { promptTokens: 11, completionTokens: 3 };
  const items = itemsOf(['Is the sky blue?', 'Is grass red?']);
  // The same requests in real time, for what `complete` sends and returns.
  const realtime = await startProviderServer('openai', (request) => ({ kind: 'answer', text: `label for ${request.prompt}`, usage }));
  const realtimeResponses: TeacherResponse[] = [];
  try {
    const teacher = await teacherAgainst(realtime.baseUrl, teacherOptions);
    for (const item of items) realtimeResponses.push(await teacher.complete(item.request, signal));
  } finally {
    await realtime.close();
  }
  await withBatchServer(
    { script: (line) => ({ kind: 'answer', text: `label for ${line.prompt}`, usage }), plan: () => ({ kind: 'complete', afterPolls: 1 }) },
    async (server, api) => {
      const batchId = await api.submit(items, 'run-7/0', signal);
      const [batch] = server.batches;
      assert.equal(batch!.id, batchId);
      assert.deepEqual(batch!.metadata, { distill_label: 'run-7/0', distill_requests: '2' });
      assert.deepEqual(
        batch!.lines.map((line) => [line.customId, line.body]),
        items.map((item, index) => [item.customId, realtime.requests[index]!.body]),
      );
      assert.deepEqual(await api.status(batchId, signal), {
        state: 'running',
        providerState: 'in_progress',
        counts: { total: 2, succeeded: 0, failed: 0 },
      });
      assert.deepEqual(await api.status(batchId, signal), {
        state: 'ended',
        providerState: 'completed',
        counts: { total: 2, succeeded: 2, failed: 0 },
      });
      assert.deepEqual(await collect(api, batchId), [
        { customId: 'item-0', status: 'answered', response: realtimeResponses[0] },
        { customId: 'item-1', status: 'answered', response: realtimeResponses[1] },
      ]);
      assert.deepEqual(realtimeResponses[0], {
        text: 'label for Is the sky blue?',
        usage,
        model: 'gpt-4o-mini-2024-07-18',
        finishReason: 'stop',
      });
    },
    teacherOptions,
  );
});

test('itemBytes is the size of the line the upload carries; a reasoning model gets max_completion_tokens there as in real time', async () => {
  await withBatchServer(
    {},
    async (server, api) => {
      const items = itemsOf(['short', 'a longer prompt with ünïcödé in it']);
      await api.submit(items, 'sizes', signal);
      const upload = server.uploads[0]!.content;
      assert.equal(
        items.reduce((sum, item) => sum + api.itemBytes(item), 0),
        upload.length,
      );
      const lines = upload.toString('utf8').split('\n').filter(Boolean);
      assert.deepEqual(
        items.map((item) => api.itemBytes(item)),
        lines.map((line) => Buffer.byteLength(line) + 1),
      );
      const body = server.batches[0]!.lines[0]!.body;
      assert.equal(body.model, 'o3-mini');
      assert.equal(body.max_completion_tokens, 32);
      assert.equal(body.max_tokens, undefined);
      assert.equal(body.temperature, undefined);
    },
    { model: 'o3-mini', max_tokens: 32 },
  );
});

test('find names a submitted batch by label and request count, even while it validates, and null for any other', async () => {
  await withBatchServer({ plan: () => ({ kind: 'hold' }) }, async (server, api) => {
    const before = Date.now();
    const first = await api.submit(itemsOf(['a', 'b']), 'run-1/0', signal);
    await api.submit(itemsOf(['c']), 'run-1/1', signal);
    await api.submit(itemsOf(['d']), 'other-run/0', signal);
    assert.equal(server.batch(first)!.status, 'validating');
    assert.equal(await api.find('run-1/0', 2, before, signal), first);
    assert.equal(await api.find('run-1/0', 3, before, signal), null);
    assert.equal(await api.find('run-9/0', 2, before, signal), null);
    assert.equal(await api.find('run-1/0', 2, Date.now() + 3600_000, signal), null);
    // Only listing: finding never submits.
    assert.equal(server.submissions, 3);
  });
});

test('an expired batch yields its partial answers and retryable failures for the requests that never ran', async () => {
  await withBatchServer({ plan: () => ({ kind: 'expire', answered: 1 }) }, async (_server, api) => {
    const batchId = await api.submit(itemsOf(['a', 'b', 'c']), 'expiring', signal);
    const status = await api.status(batchId, signal);
    assert.equal(status.state, 'expired');
    assert.deepEqual(status.counts, { total: 3, succeeded: 1, failed: 2 });
    const results = await collect(api, batchId);
    assert.equal(results[0]!.status, 'answered');
    for (const result of results.slice(1)) {
      assert.ok(result.status === 'failed' && result.retryable, JSON.stringify(result));
      assert.match(result.reason, /batch_expired/);
    }
  });
});

test('a failed line is failed and retryable for 500 and 429, final for 400; a failed batch has its reason and no results', async () => {
  const fixtures: Record<string, string> = { a: 'openai-error-server', b: 'openai-error-rate-limit', c: 'openai-error-bad-request' };
  await withBatchServer(
    {
      script: (line) => (fixtures[line.prompt] ? { kind: 'error', fixture: fixtures[line.prompt]! } : { kind: 'answer', text: 'fine' }),
      plan: (batch) =>
        batch.label === 'refused'
          ? { kind: 'fail', message: 'The input file has an invalid line.', code: 'invalid_request' }
          : { kind: 'complete' },
    },
    async (_server, api) => {
      const batchId = await api.submit(itemsOf(['a', 'b', 'c', 'd']), 'lines', signal);
      assert.deepEqual((await api.status(batchId, signal)).counts, { total: 4, succeeded: 1, failed: 3 });
      const results = await collect(api, batchId);
      assert.deepEqual(
        results.map((result) => [result.customId, result.status, result.status === 'failed' ? result.retryable : null]),
        [
          ['item-0', 'failed', true],
          ['item-1', 'failed', true],
          ['item-2', 'failed', false],
          ['item-3', 'answered', null],
        ],
      );
      assert.match((results[1] as { reason: string }).reason, /rate limited \(429\)/);
      assert.match((results[2] as { reason: string }).reason, /refused the request \(400\): This model's maximum context length/);

      const refused = await api.submit(itemsOf(['x']), 'refused', signal);
      const status = await api.status(refused, signal);
      assert.deepEqual([status.state, status.providerState, status.error], ['failed', 'failed', 'The input file has an invalid line.']);
      assert.deepEqual(await collect(api, refused), []);
    },
  );
});

test('a cancelled batch gives what it answered and retryable failures for the rest; cancelling a batch that stopped is no error', async () => {
  await withBatchServer({ plan: () => ({ kind: 'hold' }) }, async (server, api) => {
    const batchId = await api.submit(itemsOf(['a', 'b']), 'cancel-me', signal);
    server.progress(batchId, 1);
    await api.cancel(batchId, signal);
    const status = await api.status(batchId, signal);
    assert.equal(status.state, 'cancelled');
    const results = await collect(api, batchId);
    assert.equal(results[0]!.status, 'answered');
    assert.ok(results[1]!.status === 'failed' && results[1]!.retryable && /batch_cancelled/.test(results[1]!.reason));
    await api.cancel(batchId, signal);
  });
});

test('a batch id OpenAI does not know is a BatchNotFoundError for status, results and cancel', async () => {
  await withBatchServer({}, async (server, api) => {
    await assert.rejects(
      api.status('batch_unknown', signal),
      (error: unknown) => error instanceof BatchNotFoundError && error.batchId === 'batch_unknown',
    );
    const batchId = await api.submit(itemsOf(['a']), 'forgotten', signal);
    server.forget(batchId);
    await assert.rejects(
      collect(api, batchId),
      (error: unknown) => error instanceof BatchNotFoundError && /no longer knows/.test(error.message),
    );
    await assert.rejects(api.cancel(batchId, signal), BatchNotFoundError);
  });
});

test('a rejected key is the usual user error naming the fix, without the key', async () => {
  const server = await startOpenAiBatchServer({ apiKey: 'sk-the-right-key-000' });
  try {
    const api = (await teacherAgainst(server.baseUrl)).batch!;
    for (const call of [
      () => api.submit(itemsOf(['a']), 'key', signal),
      () => api.status('batch_x', signal),
      () => api.find('key', 1, 0, signal),
    ]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof UserError, String(error));
        assert.match(error.message, /OpenAI rejected the API key \(401\)/);
        assert.match(error.problems[0]!.fix ?? '', /api_key/);
        assert.ok(!error.message.includes(apiKey));
        return true;
      });
    }
    assert.equal(server.submissions, 0);
  } finally {
    await server.close();
  }
});

test("a batch over OpenAI's request limit, or over the byte limit, is refused before anything is sent", async () => {
  await withBatchServer({}, async (server, api) => {
    assert.deepEqual(api.limits, { maxRequests: 50_000, maxBytes: 200_000_000 });
    const tooMany = itemsOf(Array.from({ length: 50_001 }, (_, index) => `p${index}`));
    await assert.rejects(api.submit(tooMany, 'many', signal), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(
        error.message,
        /a batch of 50001 requests .* is over OpenAI's limits of 50000 requests and 200 MB per batch; nothing was sent/,
      );
      assert.match(error.problems[0]!.fix ?? '', /teacher\.batch\.max_requests_per_batch/);
      return true;
    });
    // The byte limit, with a small one: 200 MB of prompts is too much for a unit test's memory.
    const small = openAiBatchApi(new OpenAI({ apiKey, baseURL: server.baseUrl, maxRetries: 0 }), {
      requestBody: (request) => ({ model: 'gpt-4o-mini', messages: request.messages }),
      responseOf: () => assert.fail('nothing is answered'),
      translateError: (error) => error as Error,
      secrets: [apiKey],
      baseUrl: server.baseUrl,
      plugin: 'teacher/openai',
      uploadTimeoutMilliseconds: 10_000,
      limits: { maxRequests: 100, maxBytes: 1000 },
    });
    const items = itemsOf(Array.from({ length: 12 }, () => 'x'.repeat(60)));
    assert.ok(items.reduce((sum, item) => sum + small.itemBytes(item), 0) > 1000);
    await assert.rejects(
      small.submit(items, 'big', signal),
      (error: unknown) =>
        error instanceof UserError &&
        /requests \(\d+ bytes\) is over OpenAI's limits of 100 requests and 1000 bytes per batch/.test(error.message),
    );
    assert.equal(server.calls.filter((call) => call.method === 'POST').length, 0);
  });
});

test('a server without the Batch API gets a clear error naming teacher.mode; the teacher and its accounting price batches at half', async () => {
  const realtimeOnly = await startProviderServer('openai');
  try {
    const teacher = await teacherAgainst(realtimeOnly.baseUrl);
    await assert.rejects(teacher.batch!.submit(itemsOf(['a']), 'none', signal), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /does not offer OpenAI's Batch API \(404 on POST \/files\)/);
      assert.match(error.problems[0]!.fix ?? '', /teacher\.mode: realtime/);
      return true;
    });
    assert.equal(teacher.batchPriceShare, 0.5);
    assert.equal(openAiTeacher.accounting!({ model: 'gpt-4o-mini' }).batchPriceShare, 0.5);
  } finally {
    await realtimeOnly.close();
  }
});

test('a download that breaks off, or a 429 on retrieve, is retryable; collecting again gets every result', async () => {
  await withBatchServer(
    {
      intercept: (call) => {
        if (call.method === 'GET' && call.path.endsWith('/content') && call.attempt === 1) return { kind: 'reset' };
        if (call.method === 'GET' && call.path.startsWith('/v1/batches/') && call.attempt === 1)
          return { kind: 'error', fixture: 'openai-error-rate-limit' };
        return undefined;
      },
    },
    async (_server, api) => {
      const batchId = await api.submit(itemsOf(['a', 'b']), 'flaky', signal);
      await assert.rejects(api.status(batchId, signal), (error: unknown) => error instanceof TeacherRetryableError && error.status === 429);
      assert.equal((await api.status(batchId, signal)).state, 'ended');
      await assert.rejects(collect(api, batchId), TeacherRetryableError);
      assert.deepEqual(
        (await collect(api, batchId)).map((result) => result.status),
        ['answered', 'answered'],
      );
    },
  );
});

test('a results line longer than any chat completion stops the download with a clear error', async () => {
  await withBatchServer({ script: () => ({ kind: 'answer', text: 'x'.repeat(17 * 1024 * 1024) }) }, async (_server, api) => {
    const batchId = await api.submit(itemsOf(['a']), 'huge', signal);
    await assert.rejects(
      collect(api, batchId),
      /the results file file-\w+ of OpenAI batch batch_\w+ has a line longer than 16777216 characters/,
    );
  });
});
