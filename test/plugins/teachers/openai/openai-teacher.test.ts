import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../../core/errors/user-error.js';
import { TeacherRetryableError, type Teacher, type TeacherRequest } from '../../../../core/plugins/kinds/teacher.js';
import { openAiTeacher } from '../../../../plugins/teachers/openai/openai-teacher.js';
import { startProviderServer, type ProviderServer, type ServerStep } from '../../../support/provider-server.js';
import { testDependencies } from '../../../support/test-dependencies.js';

const request: TeacherRequest = { exampleId: 'e1', split: 'train', messages: [{ role: 'user', content: 'Is the sky blue?' }] };

async function teacherAgainst(server: ProviderServer, options: Record<string, unknown> = {}): Promise<Teacher> {
  return openAiTeacher.create(
    { model: 'gpt-4o-mini', base_url: server.baseUrl, api_key: 'sk-test-123456789', ...options },
    testDependencies(),
  );
}

async function withServer(step: ServerStep, body: (server: ProviderServer, teacher: Teacher) => Promise<void>): Promise<void> {
  const server = await startProviderServer('openai', () => step);
  try {
    await body(server, await teacherAgainst(server));
  } finally {
    await server.close();
  }
}

test('a success comes back with text, usage, model and finish reason; the SDK sent model, options and key', async () => {
  const server = await startProviderServer('openai', () => ({
    kind: 'answer',
    text: 'Answer: yes',
    usage: { promptTokens: 11, completionTokens: 3 },
  }));
  try {
    const teacher = await teacherAgainst(server, { system_prompt: 'Be brief.', max_tokens: 64, temperature: 0.2 });
    const response = await teacher.complete(request, new AbortController().signal);
    assert.deepEqual(response, {
      text: 'Answer: yes',
      usage: { promptTokens: 11, completionTokens: 3 },
      model: 'gpt-4o-mini-2024-07-18',
      finishReason: 'stop',
    });
    const seen = server.requests[0]!;
    assert.equal(seen.body.model, 'gpt-4o-mini');
    assert.equal(seen.body.max_tokens, 64);
    assert.equal(seen.body.temperature, 0.2);
    assert.deepEqual(seen.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Is the sky blue?' },
    ]);
    assert.equal(seen.headers.authorization, 'Bearer sk-test-123456789');
    // The secret is not among what changes the answer (the cache key's input).
    assert.ok(!JSON.stringify(teacher.requestOptions).includes('sk-test'));
  } finally {
    await server.close();
  }
});

test('a missing key fails in create, naming OPENAI_API_KEY; a self-hosted base_url needs none', async () => {
  await assert.rejects(
    async () => openAiTeacher.create({ model: 'gpt-4o-mini' }, testDependencies({ environment: {} })),
    (error: unknown) =>
      error instanceof UserError &&
      /OPENAI_API_KEY is not set/.test(error.message) &&
      /export OPENAI_API_KEY=/.test(error.problems[0]!.fix ?? ''),
  );
  const fromEnvironment = await openAiTeacher.create(
    { model: 'gpt-4o-mini' },
    testDependencies({ environment: { OPENAI_API_KEY: 'sk-from-env' } }),
  );
  assert.equal(fromEnvironment.provider, 'openai');
  await withServer({ kind: 'answer', text: 'ok' }, async (server) => {
    const local = await openAiTeacher.create({ model: 'llama3', base_url: server.baseUrl }, testDependencies({ environment: {} }));
    assert.equal((await local.complete(request, new AbortController().signal)).text, 'ok');
  });
});

test("429 becomes retryable with the wait from the exhausted limit's reset header; the SDK does not retry by itself", async () => {
  await withServer({ kind: 'error', fixture: 'openai-error-rate-limit' }, async (server, teacher) => {
    await assert.rejects(teacher.complete(request, new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof TeacherRetryableError);
      assert.equal(error.status, 429);
      // x-ratelimit-remaining-requests is 0 and resets in 120ms; the tokens limit is not exhausted.
      assert.equal(error.retryAfterMilliseconds, 120);
      assert.match(error.message, /Rate limit reached/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });
});

test('retry-after-ms wins over retry-after and the reset headers', async () => {
  await withServer(
    { kind: 'error', fixture: 'openai-error-rate-limit', headers: { 'retry-after-ms': '250', 'retry-after': '9' } },
    async (_, teacher) => {
      await assert.rejects(
        teacher.complete(request, new AbortController().signal),
        (error: unknown) => error instanceof TeacherRetryableError && error.retryAfterMilliseconds === 250,
      );
    },
  );
});

test('500 is retryable; 400 is final for the request; 401 is a user error naming the key variable', async () => {
  await withServer({ kind: 'error', fixture: 'openai-error-server' }, async (_, teacher) => {
    await assert.rejects(
      teacher.complete(request, new AbortController().signal),
      (error: unknown) => error instanceof TeacherRetryableError && error.status === 500 && error.retryAfterMilliseconds === null,
    );
  });
  await withServer({ kind: 'error', fixture: 'openai-error-bad-request' }, async (_, teacher) => {
    await assert.rejects(teacher.complete(request, new AbortController().signal), (error: unknown) => {
      assert.ok(!(error instanceof TeacherRetryableError) && !(error instanceof UserError));
      assert.match((error as Error).message, /refused the request \(400\).*maximum context length/);
      return true;
    });
  });
  await withServer({ kind: 'error', fixture: 'openai-error-invalid-key' }, async (_, teacher) => {
    await assert.rejects(teacher.complete(request, new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /rejected the API key \(401\)/);
      assert.match(error.problems[0]!.fix ?? '', /OPENAI_API_KEY/);
      return true;
    });
  });
});

test('empty content is an empty answer; malformed JSON is retryable', async () => {
  await withServer(
    {
      kind: 'raw',
      status: 200,
      body: JSON.stringify({
        ...JSON.parse('{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-mini"}'),
        choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 },
      }),
    },
    async (_, teacher) => {
      const response = await teacher.complete(request, new AbortController().signal);
      assert.equal(response.text, '');
      assert.deepEqual(response.usage, { promptTokens: 5, completionTokens: 0 });
    },
  );
  await withServer({ kind: 'raw', status: 200, body: '{"id": "chatcmpl-1", "choices": [' }, async (_, teacher) => {
    await assert.rejects(
      teacher.complete(request, new AbortController().signal),
      (error: unknown) => error instanceof TeacherRetryableError && /malformed/.test(error.message),
    );
  });
});
