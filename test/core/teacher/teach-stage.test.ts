import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import type { Dataset } from '../../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import type { Teacher } from '../../../core/plugins/kinds/teacher.js';
import { LocalEventStream, type DistillEvent } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { teacherCacheKey } from '../../../core/teacher/cache-key.js';
import { runTeachStage, type TeachStageInput } from '../../../core/teacher/teach-stage.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { buildTeacherReport } from '../../../core/teacher/teacher-report.js';
import { openAiTeacher } from '../../../plugins/teachers/openai/openai-teacher.js';
import { startProviderServer, type ProviderServer, type ServerScript } from '../../support/provider-server.js';
import { scaledClock } from '../../support/scaled-clock.js';
import { answerParser, arrayDataset, numberedExamples, templatePrompt } from '../../support/teach-fixtures.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../../support/test-dependencies.js';

interface Setup {
  readonly server: ProviderServer;
  readonly teacher: Teacher;
  readonly directory: string;
  readonly cacheFile: string;
  /** Runs the teach stage; a plain function, so tests take it out of the setup. */
  readonly run: (
    overrides?: Partial<TeachStageInput>,
  ) => Promise<{ report: Awaited<ReturnType<typeof runTeachStage>>; records: TeacherRecord[]; events: DistillEvent[] }>;
}

const clock = scaledClock(100);

async function setup(context: TestContext, script: ServerScript, dataset: Dataset = arrayDataset(numberedExamples(6))): Promise<Setup> {
  const server = await startProviderServer('openai', script);
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const cacheFile = path.join(directory, 'cache', 'teacher-cache.sqlite');
  const teacher = await openAiTeacher.create(
    { model: 'gpt-4o-mini', base_url: server.baseUrl, api_key: 'test-key-123456', max_tokens: 50 },
    testDependencies({ clock }),
  );
  return {
    server,
    teacher,
    directory,
    cacheFile,
    run: async (overrides = {}) => {
      const cache = overrides.cache === undefined ? TeacherCache.open(cacheFile) : overrides.cache;
      const events: DistillEvent[] = [];
      const stream = new LocalEventStream();
      stream.subscribe((event) => events.push(event));
      const outputFile = overrides.outputFile ?? path.join(directory, 'teacher', 'teacher-records.jsonl');
      try {
        const report = await runTeachStage({
          dataset,
          prompt: templatePrompt('Q: {question}'),
          parser: answerParser(),
          teacher,
          teacherPluginId: 'openai',
          teacherPluginVersion: '1.0.0',
          splits: [{ split: 'train' }],
          limits: { concurrency: 3, maxRetries: 1 },
          cache,
          outputFile,
          events: stream,
          signal: new AbortController().signal,
          clock,
          httpSettings: { ...defaultHttpSettings, timeoutMilliseconds: 500_000 },
          random: () => 0.5,
          ...overrides,
        });
        const records = readFileSync(outputFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as TeacherRecord);
        return { report, records, events };
      } finally {
        cache?.close();
      }
    },
  };
}

const because = 'because the question says so plainly';

/** e0: right, e1: wrong label, e2: garbage text, e3: empty content, e4: always 500, e5: right without a rationale. */
const mixedScript: ServerScript = (request) => {
  const index = Number(/question (\d+)/.exec(request.prompt)?.[1]);
  switch (index) {
    case 0:
      return { kind: 'answer', text: `Answer: yes, ${because}`, usage: { promptTokens: 100, completionTokens: 20 } };
    case 1:
      return { kind: 'answer', text: `Answer: yes, ${because}`, usage: { promptTokens: 100, completionTokens: 20 } };
    case 2:
      return { kind: 'answer', text: '@@#%!! lorem ipsum', usage: { promptTokens: 100, completionTokens: 5 } };
    case 3:
      return { kind: 'answer', text: '', usage: { promptTokens: 100, completionTokens: 0 } };
    case 4:
      return { kind: 'error', fixture: 'openai-error-server' };
    default:
      return { kind: 'answer', text: 'Answer: no', usage: { promptTokens: 100, completionTokens: 2 } };
  }
};

test('every example gets one record: parsed, unparsed kept with raw text and reason, failed with the reason (an empty answer is retried, never kept); the report counts them', async (context) => {
  const { run, server } = await setup(context, mixedScript);
  const { report, records, events } = await run();
  const byId = new Map(records.map((record) => [record.id, record]));
  assert.deepEqual([...byId.keys()].sort(), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  assert.equal(records.length, 6);
  assert.equal(byId.get('e0')!.teacher_label, 'yes');
  assert.equal(byId.get('e0')!.rationale, 'the question says so plainly');
  assert.deepEqual(
    [byId.get('e2')!.parse_status, byId.get('e2')!.raw_text, byId.get('e2')!.reason],
    ['unparsed', '@@#%!! lorem ipsum', 'no label word found'],
  );
  // An empty answer is no answer: retried like a failure, and in the end failed, not kept as an answer.
  assert.deepEqual([byId.get('e3')!.parse_status, byId.get('e3')!.raw_text], ['failed', null]);
  assert.match(byId.get('e3')!.reason!, /^empty answer \(finish reason: stop\) \(gave up after 2 attempts\)$/);
  assert.equal(server.countFor('Q: question 3'), 2);
  assert.equal(byId.get('e4')!.parse_status, 'failed');
  assert.match(byId.get('e4')!.reason!, /500.*gave up after 2 attempts/);
  assert.equal(server.countFor('Q: question 4'), 2);
  // gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million completion tokens.
  assert.equal(byId.get('e0')!.cost_usd, (100 * 0.15 + 20 * 0.6) / 1e6);
  assert.equal(report.records, 6);
  assert.deepEqual([report.parsed, report.unparsed, report.failed, report.cached], [3, 1, 2, 0]);
  // Gold alternates yes/no: e0 and e5 right, e1 wrong, the rest have no label.
  assert.equal(report.accuracy, 2 / 6);
  assert.equal(report.explanation_rate, 2 / 6);
  assert.equal(report.prompt_tokens, 400);
  assert.equal(report.completion_tokens, 47);
  assert.ok(Math.abs(report.cost_usd - (400 * 0.15 + 47 * 0.6) / 1e6) < 1e-12);
  assert.equal(report.per_example.prompt_tokens, 100);
  // Two of six failed, and teacher.max_failure_rate defaults to 0: the stage is not done.
  assert.equal(report.stopped, 'failures');
  assert.deepEqual(Object.keys(report.failed_reasons).length, 2);
  assert.equal(report.price?.key, 'openai/gpt-4o-mini');
  assert.ok(events.some((event) => event.type === 'teacher.failed' && event.example === 'e4'));
  const last = events.filter((event) => event.type === 'teacher.progress').at(-1)!;
  assert.deepEqual([last.done, last.total, last.failed], [6, 6, 2]);
});

test('a second run into a fresh output makes zero requests and pays nothing', async (context) => {
  const { run, server, directory } = await setup(context, (request) => ({ kind: 'answer', text: `Answer: yes ${request.prompt}` }));
  await run();
  const before = server.requests.length;
  assert.equal(before, 6);
  const { report, records } = await run({ outputFile: path.join(directory, 'second', 'records.jsonl') });
  assert.equal(server.requests.length, before);
  assert.equal(records.length, 6);
  assert.ok(records.every((record) => record.cached && record.cost_usd === 0 && record.prompt_tokens === 42));
  assert.deepEqual([report.cached, report.cost_usd, report.requests_this_run], [6, 0, 0]);
  assert.ok(report.list_price_usd > 0);
});

test('resume: examples already in the output are skipped, failed ones asked again, a torn last line repaired', async (context) => {
  let failing = true;
  const { run, server, directory } = await setup(context, (request) =>
    failing && request.prompt === 'Q: question 2'
      ? { kind: 'error', fixture: 'openai-error-server' }
      : { kind: 'answer', text: 'Answer: yes' },
  );
  const first = await run({ cache: null });
  assert.equal(first.report.failed, 1);
  // Simulate a kill in mid-write: half a line at the end.
  const outputFile = path.join(directory, 'teacher', 'teacher-records.jsonl');
  const { appendFileSync } = await import('node:fs');
  // A record of another split, labelled by another invocation: counted by the budget, not reported.
  const otherSplit: TeacherRecord = { ...first.records[0]!, split: 'validation', cost_usd: 1 };
  const { readFileSync: read, writeFileSync: write } = await import('node:fs');
  write(outputFile, JSON.stringify(otherSplit) + '\n' + read(outputFile, 'utf8'));
  appendFileSync(outputFile, '{"id":"e9","split":"tr');
  failing = false;
  const counts = server.requests.length;
  const second = await run({ cache: null });
  // Only the failed example was asked again (the cache is off, so this proves the skip).
  assert.equal(server.requests.length, counts + 1);
  const train = second.records.filter((record) => record.split === 'train');
  assert.deepEqual(train.map((record) => record.id).sort(), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  assert.ok(train.every((record) => record.parse_status === 'parsed'));
  assert.equal(second.records.length, 7);
  // The report streamed over the resumed file and the new records is the one over the train records of the final file.
  const { report } = second;
  assert.deepEqual(
    report,
    buildTeacherReport(train, {
      ...report,
      requestsThisRun: report.requests_this_run,
      costThisRun: report.cost_usd_this_run,
      durationSeconds: report.duration_seconds,
    }),
  );
  assert.deepEqual([report.records, report.parsed, report.failed, report.remaining], [6, 6, 0, 0]);
  const start = second.events.find((event) => event.type === 'teacher.start')!;
  assert.deepEqual([start.resumed, start.dropped], [6, 2]);
  const last = second.events.filter((event) => event.type === 'teacher.progress').at(-1)!;
  assert.deepEqual([last.done, last.done_this_run], [7, 1]);
});

test('a prompt placeholder that is not a dataset field fails before any call', async (context) => {
  const { run, server } = await setup(context, mixedScript);
  await assert.rejects(run({ prompt: templatePrompt('Q: {questoin}') }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /\{questoin\}, which is not a field/);
    assert.match(error.problems[0]!.fix!, /did you mean "question"/);
    return true;
  });
  assert.equal(server.requests.length, 0);
});

test('each answer is committed to the cache before the parser sees it', async (context) => {
  const { run, teacher, cacheFile } = await setup(context, () => ({ kind: 'answer', text: 'Answer: yes' }));
  const seenInCache: boolean[] = [];
  const parser: Parser = answerParser((completion, example) => {
    // A second connection, as another process would open it.
    const reader = TeacherCache.open(cacheFile);
    const key = teacherCacheKey({
      pluginId: 'openai',
      pluginVersion: '1.0.0',
      model: teacher.model,
      messages: [{ role: 'user', content: `Q: ${String(example.fields.question)}` }],
      requestOptions: teacher.requestOptions,
    });
    seenInCache.push(reader.get(key)?.response.text === completion);
    reader.close();
  });
  await run({ parser });
  assert.deepEqual(seenInCache, [true, true, true, true, true, true]);
});

test('max_requests stops the stage cleanly; a later run with a larger budget resumes without asking anything twice', async (context) => {
  const { run, server } = await setup(context, () => ({ kind: 'answer', text: 'Answer: yes', delayMilliseconds: 5 }));
  const first = await run({ budget: { max_requests: 3 } });
  assert.equal(first.report.stopped, 'budget');
  assert.equal(first.records.length, 3);
  assert.equal(first.report.remaining, 3);
  const second = await run({ budget: { max_requests: 6 } });
  assert.equal(second.report.stopped, null);
  assert.equal(second.records.length, 6);
  assert.equal(server.requests.length, 6);
  assert.ok(server.requests.every((request) => request.attempt === 1));
});

test("max_usd stops once the spend reaches it, with the pipeline's price override", async (context) => {
  const { run } = await setup(context, () => ({ kind: 'answer', text: 'Answer: yes', usage: { promptTokens: 100, completionTokens: 0 } }));
  // 100 prompt tokens at $100 per million: one cent a request.
  const { report, records } = await run({
    limits: { concurrency: 1 },
    budget: { max_usd: 0.025 },
    prices: { 'openai/gpt-4o-mini': { prompt: 100, completion: 0 } },
  });
  assert.equal(report.stopped, 'budget');
  assert.equal(records.length, 3);
  assert.ok(Math.abs(report.cost_usd - 0.03) < 1e-12);
  assert.deepEqual([report.price?.key, report.price?.source], ['openai/gpt-4o-mini', 'pipeline']);
});
