import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Teacher, TeacherRequest } from '../../../../core/plugins/kinds/teacher.js';
import { openAiTeacher, shareOut } from '../../../../plugins/teachers/openai/openai-teacher.js';
import { startProviderServer, type ProviderServer, type ServerScript } from '../../../support/provider-server.js';
import { testDependencies } from '../../../support/test-dependencies.js';

const request: TeacherRequest = { exampleId: 'e1', split: 'train', messages: [{ role: 'user', content: 'Is the sky blue?' }] };
const noSignal = () => new AbortController().signal;

async function setup(
  context: TestContext,
  script: ServerScript,
  options: Record<string, unknown> = {},
): Promise<{ server: ProviderServer; teacher: Teacher }> {
  const server = await startProviderServer('openai', script);
  context.after(() => server.close());
  const teacher = await openAiTeacher.create(
    { model: 'gpt-4o-mini', base_url: server.baseUrl, api_key: 'sk-test-123456789', temperature: 0.7, ...options },
    testDependencies(),
  );
  return { server, teacher };
}

test('completeSamples asks once with n and returns the choices in order, the billed usage shared out so that it adds up', async (context) => {
  const texts = ['Answer: yes', 'Answer: no, because the sky is grey today', ''];
  const { server, teacher } = await setup(context, () => ({
    kind: 'answer',
    text: texts[0]!,
    choices: texts.map((text) => ({ text })),
    usage: { promptTokens: 11, completionTokens: 15 },
  }));
  const responses = await teacher.completeSamples!(request, 3, noSignal());
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]!.body.n, 3);
  assert.equal(server.requests[0]!.body.logprobs, undefined, 'log-probabilities are asked only with the option');
  assert.deepEqual(
    responses.map((response) => response.text),
    texts,
  );
  // The prompt is billed once: shared between the two answers with text; the empty one gets none.
  assert.deepEqual(
    responses.map((response) => response.usage.promptTokens),
    [6, 5, 0],
  );
  // Completion tokens by each answer's length (11 and 41 characters of 52).
  assert.deepEqual(
    responses.map((response) => response.usage.completionTokens),
    [3, 12, 0],
  );
  // A single answer is asked without n.
  await teacher.complete(request, noSignal());
  assert.equal(server.requests[1]!.body.n, undefined);
});

test('logprobs: asked with the option, read from the recorded response shape of the API reference, part of the cache key', async (context) => {
  const { server, teacher } = await setup(context, () => ({ kind: 'recorded', fixture: 'openai-chat-completion-logprobs' }), {
    logprobs: true,
  });
  const response = await teacher.complete(request, noSignal());
  assert.equal(server.requests[0]!.body.logprobs, true);
  assert.equal(response.text, 'Hello! How can I assist you today?');
  assert.equal(response.tokenLogprobs?.length, 9);
  assert.deepEqual(response.tokenLogprobs[0], { token: 'Hello', logprob: -0.31725305 });
  assert.equal(response.tokenLogprobs.map((token) => token.token).join(''), response.text);
  assert.equal(teacher.requestOptions.logprobs, true);
  const plain = await openAiTeacher.create(
    { model: 'gpt-4o-mini', base_url: server.baseUrl, api_key: 'sk-test-123456789' },
    testDependencies(),
  );
  assert.equal('logprobs' in plain.requestOptions, false, 'the answers cached before the option keep their keys');
});

test('log-probabilities come with each choice of a request with n; a malformed entry drops them rather than trusting them', async (context) => {
  const { teacher } = await setup(
    context,
    () => ({
      kind: 'answer',
      text: 'yes',
      choices: [
        { text: 'yes', logprobs: [{ token: 'yes', logprob: -0.1 }] },
        { text: 'no', logprobs: [{ token: 'no', logprob: -2.3 }] },
      ],
    }),
    { logprobs: true },
  );
  const responses = await teacher.completeSamples!(request, 2, noSignal());
  assert.deepEqual(
    responses.map((response) => response.tokenLogprobs),
    [[{ token: 'yes', logprob: -0.1 }], [{ token: 'no', logprob: -2.3 }]],
  );
  const { teacher: broken } = await setup(
    context,
    () => ({
      kind: 'raw',
      status: 200,
      body: JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'yes' }, finish_reason: 'stop', logprobs: { content: [{ token: 'yes' }] } },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      }),
    }),
    { logprobs: true },
  );
  assert.equal((await broken.complete(request, noSignal())).tokenLogprobs, undefined);
});

test('samplingRefusal: temperature 0 (the default) refuses with the fix; a temperature above 0 or a reasoning model samples', async () => {
  const dependencies = testDependencies();
  const options = { base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-test-123456789' };
  const greedy = await openAiTeacher.create({ model: 'gpt-4o-mini', ...options }, dependencies);
  assert.equal(greedy.samplingRefusal, 'every sample would be the same answer: set options.temperature, e.g. 0.7');
  assert.equal((await openAiTeacher.create({ model: 'gpt-4o-mini', temperature: 0.7, ...options }, dependencies)).samplingRefusal, null);
  // Reasoning models take only their own temperature (1), whatever the option says.
  assert.equal((await openAiTeacher.create({ model: 'o3-mini', ...options }, dependencies)).samplingRefusal, null);
});

test('shareOut gives whole shares in proportion that add up to the total', () => {
  assert.deepEqual(shareOut(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(shareOut(7, [0, 0]), [4, 3]);
  assert.deepEqual(shareOut(100, [1, 3]), [25, 75]);
  assert.deepEqual(shareOut(5, [2, 0, 1]), [3, 0, 2]);
  for (const weights of [[3, 1, 4, 1, 5], [0, 9, 2], [1]]) {
    assert.equal(
      shareOut(97, weights).reduce((left, right) => left + right, 0),
      97,
    );
  }
});
