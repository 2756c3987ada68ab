import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import type { Teacher, TeacherDescriptor } from '../../../core/plugins/kinds/teacher.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { runTeachStage, type TeachStageInput } from '../../../core/teacher/teach-stage.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import type { TeacherReport } from '../../../core/teacher/teacher-report.js';
import { anthropicTeacher } from '../../../plugins/teachers/anthropic/anthropic-teacher.js';
import { openAiTeacher } from '../../../plugins/teachers/openai/openai-teacher.js';
import { recordedTeacher } from '../../../plugins/teachers/recorded/recorded-teacher.js';
import { startProviderServer, type ProviderProtocol, type ProviderServer, type ReceivedRequest } from '../../support/provider-server.js';
import { scaledClock } from '../../support/scaled-clock.js';
import { answerParser, arrayDataset, numberedExamples, templatePrompt } from '../../support/teach-fixtures.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../../support/test-dependencies.js';

const clock = scaledClock(100);

/**
 * What the server answers for each example, by the position of the answer among all the answers
 * it gave that example's prompt (`?` is an answer with no label).
 */
const labelsByPosition: Readonly<Record<string, readonly string[]>> = {
  'Q: question 0': ['yes', 'yes', 'yes', 'no', 'no'],
  'Q: question 1': ['yes', 'no', 'no', 'yes', 'yes'],
  'Q: question 2': ['yes', 'no', '?', 'yes', 'no'],
  'Q: question 3': ['?', '?', '?', 'no', 'yes'],
};

/** The answer text at a position: label-specific rationales of growing length, so the longest is known. */
function answerAt(prompt: string, position: number): string {
  const label = labelsByPosition[prompt]![position]!;
  const because = `answer number ${position} says so${' indeed'.repeat(position)}`;
  return label === '?' ? `I would rather not say, ${because}` : `Answer: ${label}. Because ${because}`;
}

/**
 * A server that answers each prompt by position: an OpenAI request with `n` gets the next `n`
 * positions as its choices, any other request the next one.
 */
async function varyingServer(context: TestContext, protocol: ProviderProtocol): Promise<ProviderServer> {
  const given = new Map<string, number>();
  const server = await startProviderServer(protocol, (request: ReceivedRequest) => {
    const count = typeof request.body.n === 'number' ? request.body.n : 1;
    const first = given.get(request.prompt) ?? 0;
    given.set(request.prompt, first + count);
    const texts = Array.from({ length: count }, (_, offset) => answerAt(request.prompt, first + offset));
    return {
      kind: 'answer',
      text: texts[0]!,
      choices: texts.map((text) => ({ text })),
      // The provider bills the prompt once and every choice's completion.
      usage: { promptTokens: 10, completionTokens: 7 * count },
      delayMilliseconds: 5,
    };
  });
  context.after(() => server.close());
  return server;
}

async function teacherFor(protocol: ProviderProtocol, server: ProviderServer, options: Record<string, unknown> = {}): Promise<Teacher> {
  const descriptor = (protocol === 'openai' ? openAiTeacher : anthropicTeacher) as unknown as TeacherDescriptor;
  const model = protocol === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest';
  return descriptor.create(
    { model, base_url: server.baseUrl, api_key: 'test-key-123456', max_tokens: 50, temperature: 0.7, ...options },
    testDependencies({ clock }),
  );
}

interface TeachResult {
  readonly report: TeacherReport;
  readonly records: ReadonlyMap<string, TeacherRecord>;
}

async function teach(
  teacher: Teacher,
  pluginId: string,
  directory: string,
  outputName: string,
  overrides: Partial<TeachStageInput> = {},
): Promise<TeachResult> {
  const cache = TeacherCache.open(path.join(directory, 'cache.sqlite'));
  const outputFile = path.join(directory, outputName, 'teacher-records.jsonl');
  try {
    const report = await runTeachStage({
      dataset: arrayDataset(numberedExamples(4)),
      prompt: templatePrompt('Q: {question}'),
      parser: answerParser(),
      teacher,
      teacherPluginId: pluginId,
      teacherPluginVersion: '1.0.0',
      splits: [{ split: 'train' }],
      limits: { concurrency: 1, maxRetries: 1 },
      cache,
      outputFile,
      events: new LocalEventStream(),
      signal: new AbortController().signal,
      clock,
      httpSettings: { ...defaultHttpSettings, timeoutMilliseconds: 500_000 },
      random: () => 0.5,
      ...overrides,
    });
    const lines = readFileSync(outputFile, 'utf8').trim().split('\n');
    const records = new Map(lines.map((line) => JSON.parse(line) as TeacherRecord).map((record) => [record.id, record]));
    return { report, records };
  } finally {
    cache.close();
  }
}

/** The label, votes and confidence of each example's record. */
function verdicts(records: ReadonlyMap<string, TeacherRecord>) {
  return Object.fromEntries(
    [...records.values()].map((record) => [
      record.id,
      [record.teacher_label, record.votes, record.confidence ?? null, record.parse_status],
    ]),
  );
}

const afterThree = {
  e0: ['yes', { yes: 3 }, 1, 'parsed'],
  e1: ['no', { yes: 1, no: 2 }, 2 / 3, 'parsed'],
  // A tie goes to the label of the earliest answer; the answer with no label counts in the denominator.
  e2: ['yes', { yes: 1, no: 1 }, 1 / 3, 'parsed'],
  e3: [null, {}, null, 'unparsed'],
};
const afterFive = {
  e0: ['yes', { yes: 3, no: 2 }, 3 / 5, 'parsed'],
  e1: ['yes', { yes: 3, no: 2 }, 3 / 5, 'parsed'],
  e2: ['yes', { yes: 2, no: 2 }, 2 / 5, 'parsed'],
  e3: ['no', { no: 1, yes: 1 }, 1 / 5, 'parsed'],
};

test('openai: one request with n per example; majority, votes and confidence right; raising samples from 3 to 5 asks one request with n=2 per example', async (context) => {
  const server = await varyingServer(context, 'openai');
  const teacher = await teacherFor('openai', server);
  const directory = temporaryDirectory(context);
  const three = await teach(teacher, 'openai', directory, 'three', { samples: 3 });
  assert.deepEqual(verdicts(three.records), afterThree);
  assert.equal(server.requests.length, 4);
  assert.ok(server.requests.every((request) => request.body.n === 3 && request.attempt === 1));
  const e1 = three.records.get('e1')!;
  // The longest rationale among the answers that agree with the majority (positions 1 and 2), and the first such answer's text.
  assert.equal(e1.rationale, 'answer number 2 says so indeed indeed');
  assert.equal(e1.raw_text, answerAt('Q: question 1', 1));
  assert.deepEqual(
    e1.samples!.map((sample) => [sample.label, sample.parse_status, sample.cached]),
    [
      ['yes', 'parsed', false],
      ['no', 'parsed', false],
      ['no', 'parsed', false],
    ],
  );
  // The usage the provider billed for the call (10 prompt + 21 completion tokens) is shared out, not multiplied.
  assert.deepEqual([e1.prompt_tokens, e1.completion_tokens], [10, 21]);
  assert.ok(Math.abs(e1.cost_usd - (10 * 0.15 + 21 * 0.6) / 1e6) < 1e-15);
  assert.deepEqual([three.report.answers, three.report.requests_this_run], [{ asked: 12, cached: 0 }, 4]);
  assert.deepEqual(three.report.confidence, { records: 3, mean: (1 + 2 / 3 + 1 / 3) / 3 });

  const five = await teach(teacher, 'openai', directory, 'five', { samples: 5 });
  assert.deepEqual(verdicts(five.records), afterFive);
  const second = server.requests.slice(4);
  assert.equal(second.length, 4, 'one more request per example');
  assert.ok(second.every((request) => request.body.n === 2));
  for (const record of five.records.values()) {
    assert.deepEqual(
      record.samples!.map((sample) => sample.cached),
      [true, true, true, false, false],
    );
  }
  assert.deepEqual([five.report.answers, five.report.requests_this_run], [{ asked: 20, cached: 12 }, 4]);
});

test('anthropic: one request per sample; raising samples from 3 to 5 asks only the two new ones per example', async (context) => {
  const server = await varyingServer(context, 'anthropic');
  // Unset, the API samples at its default temperature.
  const teacher = await teacherFor('anthropic', server, { temperature: undefined });
  const directory = temporaryDirectory(context);
  const three = await teach(teacher, 'anthropic', directory, 'three', { samples: 3 });
  assert.deepEqual(verdicts(three.records), afterThree);
  for (const prompt of Object.keys(labelsByPosition)) assert.equal(server.countFor(prompt), 3, prompt);
  assert.ok(server.requests.every((request) => request.body.n === undefined));
  assert.equal(three.report.requests_this_run, 12);
  const five = await teach(teacher, 'anthropic', directory, 'five', { samples: 5 });
  assert.deepEqual(verdicts(five.records), afterFive);
  for (const prompt of Object.keys(labelsByPosition)) assert.equal(server.countFor(prompt), 5, prompt);
  // samples 1 later still finds the first answer under the key it always had.
  const one = await teach(teacher, 'anthropic', directory, 'one');
  assert.equal(server.requests.length, 20);
  assert.deepEqual(
    [...one.records.values()].map((record) => [record.teacher_label, record.cached, record.samples, record.confidence]),
    [
      ['yes', true, undefined, undefined],
      ['yes', true, undefined, undefined],
      ['yes', true, undefined, undefined],
      [null, true, undefined, undefined],
    ],
  );
});

test('some answers failed: the record is failed, and the next run asks only the failed ones', async (context) => {
  let failing = true;
  const given = new Map<string, number>();
  const server = await startProviderServer('anthropic', (request) => {
    // The second sample of one example fails, its retry too.
    if (failing && request.prompt === 'Q: question 1' && (request.attempt === 2 || request.attempt === 3))
      return { kind: 'error', fixture: 'anthropic-error-overloaded' };
    const position = given.get(request.prompt) ?? 0;
    given.set(request.prompt, position + 1);
    return { kind: 'answer', text: answerAt(request.prompt, position) };
  });
  context.after(() => server.close());
  const teacher = await teacherFor('anthropic', server);
  const directory = temporaryDirectory(context);
  const first = await teach(teacher, 'anthropic', directory, 'out', { samples: 3, maxFailureRate: 0.5 });
  const failed = first.records.get('e1')!;
  assert.equal(failed.parse_status, 'failed');
  assert.match(failed.reason!, /^1 of 3 answers failed: /);
  assert.deepEqual(
    failed.samples!.map((sample) => sample.parse_status),
    ['parsed', 'failed', 'parsed'],
  );
  assert.equal(first.report.failed, 1);
  failing = false;
  const before = server.countFor('Q: question 1');
  const second = await teach(teacher, 'anthropic', directory, 'out', { samples: 3 });
  // The two answers that came are in the cache: only the failed one is asked again.
  assert.equal(server.countFor('Q: question 1'), before + 1);
  const record = second.records.get('e1')!;
  assert.equal(record.parse_status, 'parsed');
  assert.deepEqual(
    record.samples!.map((sample) => sample.cached),
    [true, false, true],
  );
});

test('samples above 1 with a teacher that cannot sample is an error at /teacher/samples before any request', async (context) => {
  const server = await varyingServer(context, 'openai');
  const directory = temporaryDirectory(context);
  const greedy = await teacherFor('openai', server, { temperature: 0 });
  await assert.rejects(teach(greedy, 'openai', directory, 'greedy', { samples: 3 }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    const [problem] = error.problems;
    assert.deepEqual([problem!.pointer, problem!.plugin], ['/teacher/samples', 'teacher/openai']);
    assert.match(
      problem!.message,
      /teacher\.samples is 3, but the openai teacher cannot give varied answers: every sample would be the same answer/,
    );
    assert.match(problem!.fix!, /^set options\.temperature, e\.g\. 0\.7, or remove teacher\.samples/);
    return true;
  });
  const anthropicServer = await varyingServer(context, 'anthropic');
  const greedyClaude = await teacherFor('anthropic', anthropicServer, { temperature: 0 });
  await assert.rejects(teach(greedyClaude, 'anthropic', directory, 'claude', { samples: 2 }), /every sample would be the same answer/);
  const recordings = path.join(directory, 'recordings.jsonl');
  writeFileSync(recordings, '{"id":"e0","completion":"Answer: yes"}\n');
  const recorded = await recordedTeacher.create(
    { source: 'jsonl', file: recordings, usage: 'zero' },
    testDependencies({ baseDirectory: directory }),
  );
  await assert.rejects(teach(recorded, 'recorded', directory, 'recorded', { samples: 2 }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.problems[0]!.message, /recorded answers cannot be sampled/);
    assert.equal(error.problems[0]!.plugin, 'teacher/recorded');
    return true;
  });
  assert.equal(server.requests.length + anthropicServer.requests.length, 0);
});
