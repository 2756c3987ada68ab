import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../../core/errors/user-error.js';
import { TeacherRetryableError, type Teacher, type TeacherRequest } from '../../../../core/plugins/kinds/teacher.js';
import { anthropicTeacher } from '../../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { startProviderServer, type ProviderServer, type ServerStep } from '../../../support/provider-server.js';
import { testDependencies } from '../../../support/test-dependencies.js';

const request: TeacherRequest = { exampleId: 'e1', split: 'train', messages: [{ role: 'user', content: 'Is the sky blue?' }] };

async function withServer(
  step: ServerStep,
  body: (server: ProviderServer, teacher: Teacher) => Promise<void>,
  options: Record<string, unknown> = {},
): Promise<void> {
  const server = await startProviderServer('anthropic', () => step);
  try {
    const teacher = await anthropicTeacher.create(
      { model: 'claude-3-5-haiku-latest', base_url: server.baseUrl, api_key: 'sk-ant-test-123456', ...options },
      testDependencies(),
    );
    await body(server, teacher);
  } finally {
    await server.close();
  }
}

test('a success comes back with text and usage; the system prompt goes as the system parameter', async () => {
  await withServer(
    { kind: 'answer', text: 'Answer: yes', usage: { promptTokens: 13, completionTokens: 4 } },
    async (server, teacher) => {
      const response = await teacher.complete(request, new AbortController().signal);
      assert.deepEqual(response, {
        text: 'Answer: yes',
        usage: { promptTokens: 13, completionTokens: 4 },
        model: 'claude-3-5-haiku-20241022',
        finishReason: 'end_turn',
      });
      const seen = server.requests[0]!;
      assert.equal(seen.body.system, 'Be brief.');
      assert.equal(seen.body.max_tokens, 100);
      assert.deepEqual(seen.body.messages, [{ role: 'user', content: 'Is the sky blue?' }]);
      // SDK 1.x sends the key as a bearer token; older ones used x-api-key.
      assert.ok(seen.headers.authorization === 'Bearer sk-ant-test-123456' || seen.headers['x-api-key'] === 'sk-ant-test-123456');
    },
    { system_prompt: 'Be brief.', max_tokens: 100 },
  );
});

test('a missing key fails in create, naming ANTHROPIC_API_KEY', async () => {
  await assert.rejects(
    async () =>
      anthropicTeacher.create({ model: 'claude-3-5-haiku-latest' }, testDependencies({ environment: { OPENAI_API_KEY: 'other' } })),
    (error: unknown) => error instanceof UserError && /ANTHROPIC_API_KEY is not set/.test(error.message),
  );
});

test('529 overloaded and 429 are retryable, 429 with the retry-after wait; the SDK does not retry by itself', async () => {
  await withServer({ kind: 'error', fixture: 'anthropic-error-overloaded' }, async (server, teacher) => {
    await assert.rejects(teacher.complete(request, new AbortController().signal), (error: unknown) => {
      assert.ok(error instanceof TeacherRetryableError);
      assert.equal(error.status, 529);
      assert.match(error.message, /overloaded \(529\).*Overloaded/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });
  await withServer({ kind: 'error', fixture: 'anthropic-error-rate-limit' }, async (_, teacher) => {
    await assert.rejects(
      teacher.complete(request, new AbortController().signal),
      (error: unknown) => error instanceof TeacherRetryableError && error.status === 429 && error.retryAfterMilliseconds === 1000,
    );
  });
});

test('401 is a user error naming the key variable', async () => {
  await withServer({ kind: 'error', fixture: 'anthropic-error-invalid-key' }, async (_, teacher) => {
    await assert.rejects(
      teacher.complete(request, new AbortController().signal),
      (error: unknown) => error instanceof UserError && /ANTHROPIC_API_KEY/.test(error.problems[0]!.fix ?? ''),
    );
  });
});
