import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startOpenAiBatchServer, type OpenAiBatchServer } from '../../../support/openai-batch-server.js';

// The server is test support that other tests rely on (kill tests through a child `distill`): these
// tests drive it through the official SDK, as the teacher does, so what they check is the wire protocol.

const apiKey = 'sk-batch-test-123456789';

function clientOf(server: OpenAiBatchServer): OpenAI {
  return new OpenAI({ apiKey, baseURL: server.baseUrl, maxRetries: 0 });
}

function jsonl(prompts: readonly string[], prefix = 'r'): string {
  return prompts
    .map((prompt, index) =>
      JSON.stringify({
        custom_id: `${prefix}${index}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], max_tokens: 16 },
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

async function submit(client: OpenAI, text: string, label: string): Promise<OpenAI.Batches.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(text), 'input.jsonl'), purpose: 'batch' });
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata: { distill_label: label },
  });
}

async function linesOf(client: OpenAI, fileId: string | null | undefined): Promise<Record<string, unknown>[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function withServer(
  options: Parameters<typeof startOpenAiBatchServer>[0],
  body: (server: OpenAiBatchServer, client: OpenAI) => Promise<void>,
): Promise<void> {
  const server = await startOpenAiBatchServer({ apiKey, ...options });
  try {
    await body(server, clientOf(server));
  } finally {
    await server.close();
  }
}

test('upload, create, poll to completion and download answers through the SDK; submissions are counted by messages', async () => {
  await withServer({ plan: () => ({ kind: 'complete', afterPolls: 2 }) }, async (server, client) => {
    const created = await submit(client, jsonl(['one', 'two']), 'run-1/0');
    assert.equal(created.status, 'validating');
    assert.equal(created.metadata?.distill_label, 'run-1/0');
    assert.equal(server.uploads[0]!.content.toString('utf8'), jsonl(['one', 'two']));
    assert.equal((await client.batches.retrieve(created.id)).status, 'in_progress');
    assert.equal((await client.batches.retrieve(created.id)).status, 'in_progress');
    const done = await client.batches.retrieve(created.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
    assert.equal(done.error_file_id, null);
    const lines = await linesOf(client, done.output_file_id);
    assert.deepEqual(
      lines.map((line) => [line.custom_id, (line.response as { status_code: number }).status_code]),
      [
        ['r0', 200],
        ['r1', 200],
      ],
    );
    const completion = (lines[1]!.response as { body: OpenAI.Chat.ChatCompletion }).body;
    assert.equal(completion.choices[0]!.message.content, 'answer to: two');
    assert.equal(completion.usage?.prompt_tokens, 42);
    // The same messages in a second batch count twice, whatever their custom ids.
    await submit(client, jsonl(['two'], 'other-'), 'run-1/1');
    assert.equal(server.submissions, 2);
    assert.equal(server.timesSubmitted([{ role: 'user', content: 'two' }]), 2);
    assert.equal(server.timesSubmittedPrompt('one'), 1);
    assert.equal(server.batches[1]!.lines[0]!.submission, 2);
  });
});

test('list pages newest first with after, limit and has_more, as the SDK pages through them', async () => {
  await withServer({}, async (_server, client) => {
    const ids: string[] = [];
    for (const label of ['a', 'b', 'c']) ids.push((await submit(client, jsonl([label]), label)).id);
    const firstPage = await client.batches.list({ limit: 2 });
    assert.deepEqual(
      firstPage.data.map((batch) => batch.id),
      [ids[2], ids[1]],
    );
    assert.equal(firstPage.has_more, true);
    const seen: string[] = [];
    for await (const batch of client.batches.list({ limit: 2 })) seen.push(batch.metadata?.distill_label ?? '');
    assert.deepEqual(seen, ['c', 'b', 'a']);
  });
});

test('an expired batch has the answered lines in its output file and batch_expired lines for the rest; a scripted failure is a non-200 line', async () => {
  await withServer(
    {
      plan: () => ({ kind: 'expire', answered: 2 }),
      script: (line) => (line.prompt === 'b' ? { kind: 'error', fixture: 'openai-error-server' } : { kind: 'answer', text: 'yes' }),
    },
    async (_server, client) => {
      const created = await submit(client, jsonl(['a', 'b', 'c', 'd']), 'x');
      const expired = await client.batches.retrieve(created.id);
      assert.equal(expired.status, 'expired');
      assert.deepEqual(expired.request_counts, { total: 4, completed: 1, failed: 3 });
      assert.deepEqual(
        (await linesOf(client, expired.output_file_id)).map((line) => line.custom_id),
        ['r0'],
      );
      const errors = await linesOf(client, expired.error_file_id);
      assert.equal((errors[0]!.response as { status_code: number }).status_code, 500);
      assert.deepEqual(
        errors.slice(1).map((line) => [line.custom_id, line.response, (line.error as { code: string }).code]),
        [
          ['r2', null, 'batch_expired'],
          ['r3', null, 'batch_expired'],
        ],
      );
    },
  );
});

test('cancel, a failed plan, an invalid file and a forgotten batch answer as OpenAI does', async () => {
  await withServer(
    { plan: (batch) => (batch.label === 'fail' ? { kind: 'fail', message: 'quota' } : { kind: 'hold' }) },
    async (server, client) => {
      const held = await submit(client, jsonl(['a', 'b']), 'hold');
      server.progress(held.id, 1);
      assert.equal((await client.batches.cancel(held.id)).status, 'cancelling');
      const cancelled = await client.batches.retrieve(held.id);
      assert.equal(cancelled.status, 'cancelled');
      assert.deepEqual(
        (await linesOf(client, cancelled.error_file_id)).map((line) => (line.error as { code: string }).code),
        ['batch_cancelled'],
      );
      await assert.rejects(client.batches.cancel(held.id), (error: unknown) => error instanceof OpenAI.APIError && error.status === 409);

      const failing = await submit(client, jsonl(['a']), 'fail');
      const failed = await client.batches.retrieve(failing.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.errors?.data?.[0]?.message, 'quota');

      const invalid = await submit(client, '{"custom_id": "r0", not json\n', 'bad');
      const refused = await client.batches.retrieve(invalid.id);
      assert.equal(refused.status, 'failed');
      assert.deepEqual(refused.errors?.data?.[0], {
        code: 'invalid_json_line',
        message: 'This line is not parseable as valid JSON.',
        param: null,
        line: 1,
      });

      server.forget(held.id);
      await assert.rejects(client.batches.retrieve(held.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
      await assert.rejects(client.files.content(cancelled.error_file_id!), (error: unknown) => error instanceof OpenAI.NotFoundError);
      await assert.rejects(
        new OpenAI({ apiKey: 'sk-wrong-key-0000', baseURL: server.baseUrl, maxRetries: 0 }).batches.list(),
        (error: unknown) => error instanceof OpenAI.AuthenticationError,
      );
    },
  );
});

test('a client killed half way through its upload leaves nothing behind, and the server goes on answering', async () => {
  await withServer({}, async (server, client) => {
    // A child process that sends the head and half of a multipart upload, then waits to be killed.
    const script = `
      const http = require('node:http');
      const request = http.request(process.argv[1], { method: 'POST', headers: {
        authorization: 'Bearer ${apiKey}', 'content-type': 'multipart/form-data; boundary=x', 'content-length': 100000 } });
      request.on('error', () => {});
      request.write('--x\\r\\ncontent-disposition: form-data; name="purpose"\\r\\n\\r\\nbatch\\r\\n--x\\r\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script, `${server.baseUrl}/files`], { stdio: 'ignore' });
    while (!server.calls.some((call) => call.path === '/v1/files')) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    await once(child, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.uploads.length, 0);
    const created = await submit(client, jsonl(['after']), 'after');
    assert.equal((await client.batches.retrieve(created.id)).status, 'completed');
  });
});

test('a client killed half way through a results download does not bring the server down', async () => {
  await withServer({ script: () => ({ kind: 'answer', text: 'y'.repeat(1024 * 1024) }) }, async (server, client) => {
    const created = await submit(client, jsonl(Array.from({ length: 16 }, (_, index) => `p${index}`)), 'big');
    const done = await client.batches.retrieve(created.id);
    // A child process that reads the first chunk of the 16 MB output file, then stops reading and waits to be killed.
    const script = `
      const http = require('node:http');
      http.get(process.argv[1], { headers: { authorization: 'Bearer ${apiKey}' } }, (response) => {
        response.once('data', () => { response.pause(); process.stdout.write('reading\\n'); });
      });
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script, `${server.baseUrl}/files/${done.output_file_id!}/content`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal((await linesOf(client, done.output_file_id)).length, 16);
  });
});
