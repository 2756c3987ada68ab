import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { UserError } from '../../../core/errors/user-error.js';
import type { Teacher, TeacherRequest, TeacherResponse } from '../../../core/plugins/kinds/teacher.js';
import { LocalEventStream, type DistillEvent } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { RequestEngine, type EngineLimits } from '../../../core/teacher/request-engine.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import { anthropicTeacher } from '../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { openAiTeacher } from '../../../plugins/teachers/openai/openai-teacher.js';
import { openAiTokenCounter } from '../../../plugins/teachers/openai/openai-token-counter.js';
import { startProviderServer, type ProviderProtocol, type ProviderServer, type ServerScript } from '../../support/provider-server.js';
import { scaledClock } from '../../support/scaled-clock.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../../support/test-dependencies.js';

// Backoff, retry-after waits and timeouts run on a clock 100 times faster than real time.
const clockFactor = 100;

interface Harness {
  readonly server: ProviderServer;
  readonly engine: RequestEngine;
  readonly cache: TeacherCache;
  readonly events: DistillEvent[];
  readonly clock: ReturnType<typeof scaledClock>;
}

async function harness(
  context: TestContext,
  protocol: ProviderProtocol,
  script: ServerScript,
  limits: Partial<EngineLimits> = {},
): Promise<Harness> {
  const server = await startProviderServer(protocol, script);
  context.after(() => server.close());
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  const clock = scaledClock(clockFactor);
  const descriptor = protocol === 'openai' ? openAiTeacher : anthropicTeacher;
  const teacher: Teacher = await descriptor.create(
    { model: protocol === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest', base_url: server.baseUrl, api_key: 'test-key-123456' },
    testDependencies({ clock }),
  );
  const stream = new LocalEventStream();
  const events: DistillEvent[] = [];
  stream.subscribe((event) => events.push(event));
  const engine = new RequestEngine({
    teacher,
    pluginId: descriptor.id,
    pluginVersion: descriptor.version,
    cache,
    clock,
    httpSettings: { ...defaultHttpSettings, timeoutMilliseconds: 100_000 },
    limits: { concurrency: 4, maxRetries: 3, ...limits },
    tokenCounter: await teacher.tokenCounter!(),
    events: stream,
    random: () => 0.5,
  });
  return { server, engine, cache, events, clock };
}

const ask = (prompt: string, exampleId = prompt): TeacherRequest => ({
  exampleId,
  split: 'train',
  messages: [{ role: 'user', content: prompt }],
});
const noSignal = () => new AbortController().signal;

test('429 with retry-after is retried after the wait the server asked for, then succeeds and is cached', async (context) => {
  const { server, engine, cache, clock, events } = await harness(context, 'openai', (request) =>
    request.attempt === 1
      ? { kind: 'error', fixture: 'openai-error-rate-limit', headers: { 'retry-after': '7' } }
      : { kind: 'answer', text: 'Answer: yes' },
  );
  const outcome = await engine.request(ask('q1'), noSignal());
  assert.equal(outcome.status, 'answered');
  assert.equal(outcome.attempts, 2);
  assert.equal(server.countFor('q1'), 2);
  // retry-after: 7 s was honoured (plus jitter of at most 500 ms).
  assert.ok(
    clock.slept.some((wait) => wait >= 7000 && wait <= 7500),
    `slept ${clock.slept.join(', ')}`,
  );
  assert.equal(events.filter((event) => event.type === 'teacher.retry').length, 1);
  assert.equal(cache.get(engine.keyOf(ask('q1')))?.response.text, 'Answer: yes');
});

test('500 on every attempt ends as a failed outcome with the reason; the error is not cached and a later call asks again', async (context) => {
  const { server, engine, cache } = await harness(context, 'openai', () => ({ kind: 'error', fixture: 'openai-error-server' }), {
    maxRetries: 2,
  });
  const outcome = await engine.request(ask('q2'), noSignal());
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.reason, /server error \(500\).*gave up after 3 attempts/);
  assert.equal(server.countFor('q2'), 3);
  assert.equal(cache.get(engine.keyOf(ask('q2'))), null);
  server.script = () => ({ kind: 'answer', text: 'fine now' });
  const later = await engine.request(ask('q2'), noSignal());
  assert.equal(later.status === 'answered' && later.response.text, 'fine now');
  assert.equal(server.countFor('q2'), 4);
});

test('529 overloaded from Anthropic is retried with backoff, then succeeds', async (context) => {
  const { server, engine, clock } = await harness(context, 'anthropic', (request) =>
    request.attempt <= 2 ? { kind: 'error', fixture: 'anthropic-error-overloaded' } : { kind: 'answer', text: 'Answer: no' },
  );
  const outcome = await engine.request(ask('q3'), noSignal());
  assert.equal(outcome.status === 'answered' && outcome.response.text, 'Answer: no');
  assert.equal(server.countFor('q3'), 3);
  // Full jitter with random() = 0.5: half of 500 ms, then half of 1000 ms.
  assert.deepEqual(
    clock.slept.filter((wait) => wait < 100_000),
    [250, 500],
  );
});

test('a request that hangs times out and is retried', async (context) => {
  const { server, engine } = await harness(context, 'openai', (request) =>
    request.attempt === 1 ? { kind: 'hang' } : { kind: 'answer', text: 'late but here' },
  );
  const outcome = await engine.request(ask('q4'), noSignal());
  assert.equal(outcome.status === 'answered' && outcome.response.text, 'late but here');
  assert.equal(server.countFor('q4'), 2);
});

test('malformed JSON is retried; a 400 fails at once without retries', async (context) => {
  const { server, engine } = await harness(context, 'openai', (request) =>
    request.prompt === 'too long'
      ? { kind: 'error', fixture: 'openai-error-bad-request' }
      : request.attempt === 1
        ? { kind: 'raw', status: 200, body: '{"choices": [' }
        : { kind: 'answer', text: 'ok' },
  );
  const recovered = await engine.request(ask('q5'), noSignal());
  assert.equal(recovered.status === 'answered' && recovered.response.text, 'ok');
  const refused = await engine.request(ask('too long'), noSignal());
  assert.equal(refused.status, 'failed');
  assert.match(refused.reason, /\(400\).*maximum context length/);
  assert.equal(server.countFor('too long'), 1);
});

test('identical requests in flight are made once; a second round is answered from the cache', async (context) => {
  const { server, engine } = await harness(context, 'openai', () => ({ kind: 'answer', text: 'shared', delayMilliseconds: 50 }));
  const outcomes = await Promise.all([
    engine.request(ask('same', 'a'), noSignal()),
    engine.request(ask('same', 'b'), noSignal()),
    engine.request(ask('same', 'c'), noSignal()),
  ]);
  assert.equal(server.countFor('same'), 1);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status === 'answered' && outcome.cached),
    [false, true, true],
  );
  const again = await engine.request(ask('same', 'd'), noSignal());
  assert.equal(again.status === 'answered' && again.cached, true);
  assert.equal(server.countFor('same'), 1);
});

test('an empty answer (no choices, no content) is retried and never cached; empty on every attempt is a failure', async (context) => {
  const empty = {
    kind: 'raw',
    status: 200,
    body: JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 },
    }),
  } as const;
  const { server, engine, cache } = await harness(context, 'openai', (request) =>
    request.prompt === 'never' || request.attempt === 1 ? empty : { kind: 'answer', text: 'Answer: yes' },
  );
  const recovered = await engine.request(ask('q-empty'), noSignal());
  assert.equal(recovered.status === 'answered' && recovered.response.text, 'Answer: yes');
  assert.equal(server.countFor('q-empty'), 2);
  const failed = await engine.request(ask('never'), noSignal());
  assert.equal(failed.status, 'failed');
  assert.match(failed.reason, /^empty answer .*gave up after 4 attempts/);
  assert.equal(cache.get(engine.keyOf(ask('never'))), null, 'no empty answer is cached');
  assert.equal(cache.statistics().entries, 1);
});

test('a retry-after longer than the cap waits only the cap, and the retry event says what was asked', async (context) => {
  const { engine, clock, events } = await harness(
    context,
    'openai',
    (request) =>
      request.attempt === 1
        ? { kind: 'error', fixture: 'openai-error-rate-limit', headers: { 'retry-after': '600' } }
        : { kind: 'answer', text: 'Answer: yes' },
    { maxRetryAfterMilliseconds: 2000 },
  );
  const outcome = await engine.request(ask('q-cap'), noSignal());
  assert.equal(outcome.status, 'answered');
  // The 429 also pauses this engine's requests for the capped wait; nothing waits 600 s.
  assert.ok(
    clock.slept.every((wait) => wait <= 2500 || wait >= 100_000),
    `slept ${clock.slept.join(', ')}`,
  );
  assert.ok(
    clock.slept.some((wait) => wait >= 2000 && wait <= 2500),
    `slept ${clock.slept.join(', ')}`,
  );
  const retry = events.find((event) => event.type === 'teacher.retry')!;
  assert.equal(retry.asked_ms, 600_000);
});

test('refusals (400) in a row stop the engine with a user error; an answer in between starts the count again', async (context) => {
  const { server, engine } = await harness(context, 'openai', (request) =>
    request.prompt.startsWith('long') ? { kind: 'error', fixture: 'openai-error-bad-request' } : { kind: 'answer', text: 'ok' },
  );
  for (let index = 0; index < 4; index++) assert.equal((await engine.request(ask(`long ${index}`), noSignal())).status, 'failed');
  assert.equal((await engine.request(ask('short'), noSignal())).status, 'answered');
  for (let index = 4; index < 8; index++) assert.equal((await engine.request(ask(`long ${index}`), noSignal())).status, 'failed');
  await assert.rejects(engine.request(ask('long 8'), noSignal()), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /the last 5 requests to gpt-4o-mini were all refused.*maximum context length/);
    assert.match(error.problems[0]!.fix ?? '', /context window/);
    return true;
  });
  // Refusals are never retried.
  assert.ok(server.requests.every((each) => each.attempt === 1));
});

test('a stop lets the call in flight finish and commits its answer, starts no retry, and ends requests still waiting', async (context) => {
  const { server, engine, cache } = await harness(
    context,
    'openai',
    (request) =>
      request.prompt === 'fails'
        ? { kind: 'error', fixture: 'openai-error-server', delayMilliseconds: 150 }
        : { kind: 'answer', text: `answer ${request.prompt}`, delayMilliseconds: 150 },
    { concurrency: 2 },
  );
  const stop = new AbortController();
  const inFlight = engine.request(ask('slow'), stop.signal);
  const failing = engine.request(ask('fails'), stop.signal);
  const waiting = engine.request(ask('waiting'), stop.signal).then(
    (outcome) => outcome,
    (error: unknown) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  stop.abort(new Error('stop'));
  const answered = await inFlight;
  assert.equal(answered.status === 'answered' && answered.response.text, 'answer slow');
  assert.equal(cache.get(engine.keyOf(ask('slow')))?.response.text, 'answer slow', 'committed before it came back');
  assert.deepEqual(await failing, { status: 'skipped', reason: 'cancelled' });
  assert.equal(server.countFor('fails'), 1, 'no retry after the stop');
  assert.equal(((await waiting) as Error).message, 'stop', 'a request waiting for a slot ends with the stop');
  assert.equal(server.countFor('waiting'), 0);
});

/** A teacher that records how many calls overlap, answering after `delay` real milliseconds. */
function countingTeacher(delay: number): Teacher & { maximumConcurrent: number; calls: number } {
  let current = 0;
  const teacher = {
    provider: 'openai',
    model: 'gpt-4o-mini',
    requestOptions: { max_tokens: 10 },
    cacheable: true,
    maximumConcurrent: 0,
    calls: 0,
    async complete(request: TeacherRequest): Promise<TeacherResponse> {
      current++;
      teacher.calls++;
      teacher.maximumConcurrent = Math.max(teacher.maximumConcurrent, current);
      await new Promise((resolve) => setTimeout(resolve, delay));
      current--;
      return {
        text: `answer ${request.exampleId}`,
        usage: { promptTokens: 100, completionTokens: 10 },
        model: 'gpt-4o-mini',
        finishReason: 'stop',
      };
    },
  };
  return teacher;
}

async function plainEngine(teacher: Teacher, limits: EngineLimits, clock = scaledClock(clockFactor)): Promise<RequestEngine> {
  return new RequestEngine({
    teacher,
    pluginId: 'counting',
    pluginVersion: '1.0.0',
    cache: null,
    clock,
    httpSettings: defaultHttpSettings,
    limits,
    tokenCounter: await openAiTokenCounter('gpt-4o-mini'),
    events: new LocalEventStream(),
  });
}

test("a settled request leaves nothing behind: no listener on the caller's signal, and the signal the teacher got can be collected", async () => {
  // The openai SDK adds an abort listener to the signal it is given and never removes it; a teacher
  // doing the same must not keep every call in memory (Node keeps a signal from AbortSignal.any
  // alive while it has listeners, which is how the teach stage once grew by kilobytes per example).
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  const givenSignals: WeakRef<AbortSignal>[] = [];
  const teacher = countingTeacher(1);
  const complete = teacher.complete.bind(teacher);
  teacher.complete = (request: TeacherRequest, signal: AbortSignal) => {
    // A listener that holds on to the call, as the SDK's does, and is never removed.
    signal.addEventListener('abort', () => request);
    givenSignals.push(new WeakRef(signal));
    return complete(request, signal);
  };
  const engine = await plainEngine(teacher, { concurrency: 4 });
  const caller = new AbortController().signal;
  // Requests waiting for a slot listen on the caller's signal too: more than Node's warning threshold here.
  setMaxListeners(100, caller);
  await Promise.all(Array.from({ length: 40 }, (_, index) => engine.request(ask(`g${index}`), caller)));
  assert.equal(getEventListeners(caller, 'abort').length, 0);
  // A WeakRef's target stays alive until the current job ends: let it end before collecting.
  await new Promise((resolve) => setTimeout(resolve, 5));
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 5));
  collectGarbage();
  assert.equal(givenSignals.length, 40);
  assert.equal(givenSignals.filter((signal) => signal.deref() !== undefined).length, 0);
});

test('concurrency is bounded', async () => {
  const teacher = countingTeacher(20);
  const engine = await plainEngine(teacher, { concurrency: 3 });
  await Promise.all(Array.from({ length: 12 }, (_, index) => engine.request(ask(`c${index}`), noSignal())));
  assert.equal(teacher.calls, 12);
  assert.equal(teacher.maximumConcurrent, 3);
});

test('requests per minute: the third of three requests at 2 per minute waits for the window', async () => {
  const clock = scaledClock(1000);
  const engine = await plainEngine(countingTeacher(0), { concurrency: 3, requestsPerMinute: 2 }, clock);
  const started = clock.now();
  await Promise.all([0, 1, 2].map((index) => engine.request(ask(`r${index}`), noSignal())));
  const elapsed = clock.now() - started;
  assert.ok(elapsed >= 59_000 && elapsed < 90_000, `elapsed ${elapsed} ms of clock time`);
});

test('tokens per minute: real usage replaces the estimate, and a full window makes the next request wait', async () => {
  const clock = scaledClock(1000);
  // Each request is estimated at about 18 tokens (prompt + max_tokens) but really uses 110. At 200
  // per minute the estimates alone would let all three through; the real usage makes the third wait.
  const engine = await plainEngine(countingTeacher(0), { concurrency: 1, tokensPerMinute: 200 }, clock);
  const started = clock.now();
  await engine.request(ask('t0'), noSignal());
  await engine.request(ask('t1'), noSignal());
  assert.ok(clock.now() - started < 30_000);
  await engine.request(ask('t2'), noSignal());
  assert.ok(clock.now() - started >= 59_000, `elapsed ${clock.now() - started}`);
});

test('a tokens-per-minute limit far from binding bounds the prompts without tokenizing them; near it, they are counted', async () => {
  const counter = await openAiTokenCounter('gpt-4o-mini');
  const counted = { prompts: 0 };
  const engineWith = (tokensPerMinute: number) =>
    new RequestEngine({
      teacher: countingTeacher(0),
      pluginId: 'counting',
      pluginVersion: '1.0.0',
      cache: null,
      clock: scaledClock(1000),
      httpSettings: defaultHttpSettings,
      limits: { concurrency: 1, tokensPerMinute },
      tokenCounter: { ...counter, countMessages: (messages) => (counted.prompts++, counter.countMessages(messages)) },
      events: new LocalEventStream(),
    });
  const far = engineWith(1_000_000);
  for (const index of [0, 1, 2, 3]) assert.equal((await far.request(ask(`far${index}`), noSignal())).status, 'answered');
  assert.deepEqual({ ...counted }, { prompts: 0 });
  // Each answer uses 110 tokens: at 200 a minute the third request's bound would make it wait, so it is counted.
  const near = engineWith(200);
  for (const index of [0, 1, 2]) await near.request(ask(`near${index}`), noSignal());
  assert.ok(counted.prompts >= 1, `counted ${counted.prompts} prompts`);
});

test('a budget gate refuses paid requests but not cached answers', async (context) => {
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  const teacher = countingTeacher(0);
  let admitted = 0;
  const engine = new RequestEngine({
    teacher,
    pluginId: 'counting',
    pluginVersion: '1.0.0',
    cache,
    clock: scaledClock(clockFactor),
    httpSettings: defaultHttpSettings,
    limits: { concurrency: 1 },
    tokenCounter: await openAiTokenCounter('gpt-4o-mini'),
    events: new LocalEventStream(),
    admitPaidRequest: () => admitted++ < 1,
  });
  assert.equal((await engine.request(ask('b0'), noSignal())).status, 'answered');
  assert.deepEqual(await engine.request(ask('b1'), noSignal()), { status: 'skipped', reason: 'budget' });
  const cached = await engine.request(ask('b0'), noSignal());
  assert.equal(cached.status === 'answered' && cached.cached, true);
  assert.equal(teacher.calls, 1);
});

test('a teacher with cacheable: false bypasses the cache and its answers count as cached', async (context) => {
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  const teacher = Object.assign(countingTeacher(0), { cacheable: false, provider: 'recorded' });
  const engine = new RequestEngine({
    teacher,
    pluginId: 'recorded',
    pluginVersion: '1.0.0',
    cache,
    clock: scaledClock(clockFactor),
    httpSettings: defaultHttpSettings,
    limits: { concurrency: 2 },
    tokenCounter: null,
    events: new LocalEventStream(),
    admitPaidRequest: () => false,
  });
  const outcome = await engine.request(ask('recorded question'), noSignal());
  assert.deepEqual(outcome.status === 'answered' && [outcome.cached, outcome.attempts, outcome.response.text], [
    true,
    0,
    'answer recorded question',
  ]);
  assert.equal(cache.statistics().entries, 0);
});
