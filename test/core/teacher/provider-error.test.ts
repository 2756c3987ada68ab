import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { TeacherRefusedError, TeacherRetryableError, type Teacher, type TeacherRequest } from '../../../core/plugins/kinds/teacher.js';
import { anthropicTeacher } from '../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { openAiTeacher } from '../../../plugins/teachers/openai/openai-teacher.js';
import { startProviderServer, type ProviderProtocol, type ServerStep } from '../../support/provider-server.js';
import { testDependencies } from '../../support/test-dependencies.js';

// Every failure goes through the real SDK of each provider, against a loopback server speaking its
// wire protocol: the classification must hold for the errors the SDKs really throw (the `openai`
// SDK 6.x names them all "Error", so nothing may depend on names).

const request: TeacherRequest = { exampleId: 'e1', split: 'train', messages: [{ role: 'user', content: 'Is the sky blue?' }] };
const protocols: ProviderProtocol[] = ['openai', 'anthropic'];
const key = 'sk-echoed-secret-0123456789';

/** The error a teacher's `complete` throws when the server does `step`. */
async function failureOf(protocol: ProviderProtocol, step: ServerStep): Promise<unknown> {
  const server = await startProviderServer(protocol, () => step);
  try {
    const descriptor = protocol === 'openai' ? openAiTeacher : anthropicTeacher;
    const options = { model: 'model-x', base_url: server.baseUrl, api_key: key, timeout_seconds: 0.3 };
    const teacher: Teacher = await descriptor.create(options, testDependencies());
    await teacher.complete(request, new AbortController().signal);
  } catch (error) {
    return error;
  } finally {
    await server.close();
  }
  assert.fail(`${protocol}: ${step.kind} did not fail`);
}

function errorBody(protocol: ProviderProtocol, message: string): string {
  return JSON.stringify(
    protocol === 'openai'
      ? { error: { message, type: 'invalid_request_error', code: null } }
      : { type: 'error', error: { type: 'invalid_request_error', message } },
  );
}

for (const protocol of protocols) {
  test(`${protocol}: a connection reset, a body cut off half way and a hang are retryable, named for what they are`, async () => {
    const reset = await failureOf(protocol, { kind: 'reset' });
    assert.ok(reset instanceof TeacherRetryableError, String(reset));
    assert.match(reset.message, /^cannot reach (OpenAI|Anthropic): .*UND_ERR_SOCKET/);

    const truncated = await failureOf(protocol, { kind: 'truncated', text: 'Answer: yes' });
    assert.ok(truncated instanceof TeacherRetryableError, String(truncated));
    assert.match(truncated.message, /^cannot reach (OpenAI|Anthropic): terminated/);

    const hang = await failureOf(protocol, { kind: 'hang' });
    assert.ok(hang instanceof TeacherRetryableError, String(hang));
    assert.match(hang.message, /request timed out/);
  });

  test(`${protocol}: 408, 409, 425, 429, 500 and 529 are retryable; 400, 413 and 422 are refusals; 401, 403 and 404 stop everything`, async () => {
    for (const status of [408, 409, 425, 429, 500, 529]) {
      const error = await failureOf(protocol, { kind: 'raw', status, body: errorBody(protocol, 'try later') });
      assert.ok(error instanceof TeacherRetryableError && error.status === status, `${status}: ${String(error)}`);
    }
    for (const status of [400, 413, 422]) {
      const error = await failureOf(protocol, { kind: 'raw', status, body: errorBody(protocol, 'bad request') });
      assert.ok(error instanceof TeacherRefusedError && error.status === status, `${status}: ${String(error)}`);
    }
    for (const status of [401, 403, 404]) {
      const error = await failureOf(protocol, { kind: 'raw', status, body: errorBody(protocol, 'no') });
      assert.ok(error instanceof UserError, `${status}: ${String(error)}`);
    }
  });

  test(`${protocol}: an answer without its list of choices is retryable`, async () => {
    const body =
      protocol === 'openai' ? '{"id": "x", "object": "chat.completion", "model": "m"}' : '{"id": "x", "type": "message", "model": "m"}';
    const error = await failureOf(protocol, { kind: 'raw', status: 200, body });
    assert.ok(error instanceof TeacherRetryableError, String(error));
  });

  test(`${protocol}: a key the provider echoes in its error text is redacted from the message`, async () => {
    for (const status of [400, 401, 500]) {
      const error = await failureOf(protocol, { kind: 'raw', status, body: errorBody(protocol, `Incorrect API key provided: ${key}.`) });
      assert.ok(error instanceof Error);
      assert.ok(!error.message.includes(key), `${status}: ${error.message}`);
      assert.match(error.message, /\[redacted\]/);
      assert.ok(!(error.stack ?? '').includes(key));
    }
  });
}

test('a base_url gets no key from the environment: only one named in the pipeline', async () => {
  const server = await startProviderServer('openai', () => ({ kind: 'answer', text: 'ok' }));
  try {
    const environment = { OPENAI_API_KEY: key, MY_GATEWAY_KEY: 'gateway-key-42' };
    const fromEnvironment = await openAiTeacher.create({ model: 'm', base_url: server.baseUrl }, testDependencies({ environment }));
    await fromEnvironment.complete(request, new AbortController().signal);
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer no-key-set');
    const named = await openAiTeacher.create(
      { model: 'm', base_url: server.baseUrl, api_key: environment.MY_GATEWAY_KEY },
      testDependencies({ environment }),
    );
    await named.complete(request, new AbortController().signal);
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer gateway-key-42');
    assert.ok(server.requests.every((each) => !JSON.stringify(each.headers).includes(key)));
  } finally {
    await server.close();
  }
  const anthropic = await startProviderServer('anthropic', () => ({ kind: 'answer', text: 'ok' }));
  try {
    const environment = { ANTHROPIC_API_KEY: key, ANTHROPIC_AUTH_TOKEN: key };
    // The SDK reads ANTHROPIC_AUTH_TOKEN and ANTHROPIC_API_KEY from process.env by itself, when its
    // client is made: set them there while the teacher is created.
    Object.assign(process.env, environment);
    try {
      const teacher = await anthropicTeacher.create({ model: 'm', base_url: anthropic.baseUrl }, testDependencies({ environment }));
      await teacher.complete(request, new AbortController().signal);
    } finally {
      delete process.env.ANTHROPIC_AUTH_TOKEN;
      delete process.env.ANTHROPIC_API_KEY;
    }
    assert.ok(!JSON.stringify(anthropic.requests[0]!.headers).includes(key), JSON.stringify(anthropic.requests[0]!.headers));
  } finally {
    await anthropic.close();
  }
});
