import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isUserError, type UserError } from '../../../../core/errors/user-error.js';
import type { BatchItem, BatchLimits, BatchStatus } from '../../../../core/plugins/kinds/teacher-batch.js';
import { LocalEventStream, type DistillEvent } from '../../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../../core/services/http-settings.js';
import { BatchStore, forgetBatch } from '../../../../core/teacher/batch/batch-store.js';
import { runTeachStage, type TeachStageInput } from '../../../../core/teacher/teach-stage.js';
import { TeacherCache } from '../../../../core/teacher/teacher-cache.js';
import type { TeacherRecord } from '../../../../core/teacher/teacher-record.js';
import { scaledClock } from '../../../support/scaled-clock.js';
import { answerParser, arrayDataset, numberedExamples, templatePrompt } from '../../../support/teach-fixtures.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { BatchApiDouble, batchTeacher, type DoubleScript } from './batch-api-double.js';

interface RunResult {
  readonly report: Awaited<ReturnType<typeof runTeachStage>>;
  readonly records: TeacherRecord[];
  readonly events: DistillEvent[];
}

interface Setup {
  readonly api: BatchApiDouble;
  readonly cacheFile: string;
  readonly outputFile: string;
  /** One teach stage in batch mode, with a fresh cache connection (as a new process has); `stopWhen` aborts it on an event. */
  readonly run: (overrides?: Partial<TeachStageInput>, stopWhen?: (event: DistillEvent) => boolean) => Promise<RunResult>;
}

/** Batch statuses every simulated second; a poll of 1 s doubling up to 4 s takes microseconds at this scale. */
const clock = scaledClock(100_000);

function setup(context: TestContext, options: { examples?: number; limits?: BatchLimits; script?: DoubleScript } = {}): Setup {
  const directory = temporaryDirectory(context);
  const cacheFile = path.join(directory, 'cache', 'teacher-cache.sqlite');
  const outputFile = path.join(directory, 'teacher', 'teacher-records.jsonl');
  const api = new BatchApiDouble(options.limits ?? { maxRequests: 4, maxBytes: 1_000_000 }, () => clock.now(), options.script);
  const dataset = arrayDataset(numberedExamples(options.examples ?? 10));
  setupFiles.set(api, cacheFile);
  return {
    api,
    cacheFile,
    outputFile,
    run: async (overrides = {}, stopWhen) => {
      const cache = overrides.cache === undefined ? TeacherCache.open(cacheFile) : overrides.cache;
      const events: DistillEvent[] = [];
      const stream = new LocalEventStream();
      const stop = new AbortController();
      stream.subscribe((event) => {
        events.push(event);
        if (stopWhen?.(event)) stop.abort(new Error('stopped by the test'));
      });
      try {
        const report = await runTeachStage({
          dataset,
          prompt: templatePrompt('Q: {question}'),
          parser: answerParser(),
          teacher: batchTeacher(api),
          teacherPluginId: 'fake',
          teacherPluginVersion: '1.0.0',
          splits: [{ split: 'train' }],
          limits: { concurrency: 2, maxRetries: 2 },
          cache,
          outputFile,
          events: stream,
          signal: stop.signal,
          clock,
          httpSettings: defaultHttpSettings,
          random: () => 0.5,
          mode: 'batch',
          batch: { poll_seconds: 1, max_poll_seconds: 4 },
          ...overrides,
        });
        return { report, records: readRecords(overrides.outputFile ?? outputFile), events };
      } finally {
        cache?.close();
      }
    },
  };
}

function readRecords(file: string): TeacherRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as TeacherRecord);
}

/** The last record of each example (a resumed output may hold an earlier failed line). */
function byExample(records: readonly TeacherRecord[]): Map<string, TeacherRecord> {
  return new Map(records.map((record) => [record.id, record]));
}

/** Runs a stage that must fail, and returns its user error. */
async function userErrorOf(work: Promise<unknown>): Promise<UserError> {
  try {
    await work;
  } catch (error) {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the stage to fail');
}

/** The cache file of each setup's double, for checks on the store after a run. */
const setupFiles = new WeakMap<BatchApiDouble, string>();

/** Submissions per state in the store, and the answers the cache holds (as `answers`). */
function storeStates(cacheFile: string): Record<string, number> {
  const cache = TeacherCache.open(cacheFile);
  try {
    BatchStore.of(cache);
    const rows = cache.database.prepare('SELECT state, COUNT(*) AS count FROM batch_submissions GROUP BY state').all() as {
      state: string;
      count: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  } finally {
    cache.close();
  }
}

function answersIn(cacheFile: string): number {
  const cache = TeacherCache.open(cacheFile);
  try {
    return cache.statistics().entries;
  } finally {
    cache.close();
  }
}

const ofType = (events: readonly DistillEvent[], type: string) => events.filter((event) => event.type === type);

test('a batch run answers every example through batches within maxRequests, once each, at the batch price; retryable API errors are retried', async (context) => {
  const { run, api } = setup(context);
  api.failNextCalls = 2;
  const { report, records, events } = await run();
  const examples = byExample(records);
  assert.equal(records.length, 10);
  for (let index = 0; index < 10; index++) {
    const record = examples.get(`e${index}`)!;
    assert.equal(record.parse_status, 'parsed');
    assert.equal(record.teacher_label, index % 2 === 0 ? 'yes' : 'no');
    assert.equal(record.cached, false);
    // 100 prompt and 10 completion tokens at half of $1 and $2 per million.
    assert.equal(record.cost_usd, (100 * 0.5 + 10 * 1) / 1e6);
  }
  // 10 requests, at most 4 a batch.
  assert.deepEqual(
    [...api.batches.values()].map((batch) => batch.items.length),
    [4, 4, 2],
  );
  assert.equal(api.submittedExamples.size, 10);
  assert.deepEqual(api.submittedTwice(), []);
  assert.equal(report.stopped, null);
  assert.deepEqual([report.records, report.parsed, report.failed, report.requests_this_run], [10, 10, 0, 10]);
  assert.ok(Math.abs(report.cost_usd - 10 * 60e-6) < 1e-12);
  assert.deepEqual([report.price?.prompt, report.price?.completion, report.price?.batch], [0.5, 1, true]);
  assert.equal(ofType(events, 'teacher.batch_submitted').length, 3);
  assert.equal(ofType(events, 'teacher.batch_collected').length, 3);
  assert.ok(ofType(events, 'teacher.retry').length >= 2);
  const status = ofType(events, 'teacher.batch_status').at(-1)!;
  assert.deepEqual([status.state, status.provider_state, status.succeeded, status.total], ['ended', 'completed', 2, 2]);
  // Every answer is in the cache, and every submission is collected.
  assert.deepEqual(storeStates(setupFiles.get(api)!), { collected: 3 });
});

test('batches respect the provider bytes limit and max_requests_per_batch; a request over the bytes limit alone is a clear error before anything is submitted', async (context) => {
  const probe = new BatchApiDouble({ maxRequests: 1000, maxBytes: 1 }, () => 0);
  const itemBytes = probe.itemBytes({
    customId: 'x'.repeat(64),
    request: { exampleId: 'e0', split: 'train', messages: [{ role: 'user', content: 'Q: question 0' }] },
  });
  // Room for three items of this size, not four.
  const maxBytes = itemBytes * 3 + 2;
  const { run, api } = setup(context, { examples: 10, limits: { maxRequests: 1000, maxBytes } });
  const { records } = await run();
  assert.equal(records.length, 10);
  const sizes = [...api.batches.values()].map((batch) => batch.items.reduce((sum, item) => sum + api.itemBytes(item), 0));
  assert.ok(
    sizes.every((size) => size <= maxBytes),
    `batch sizes ${sizes.join(', ')} over ${maxBytes}`,
  );
  assert.deepEqual(
    [...api.batches.values()].map((batch) => batch.items.length),
    [3, 3, 3, 1],
  );

  const capped = setup(context, { examples: 5, limits: { maxRequests: 1000, maxBytes: 1_000_000 } });
  await capped.run({ batch: { poll_seconds: 1, max_poll_seconds: 4, max_requests_per_batch: 2 } });
  assert.deepEqual(
    [...capped.api.batches.values()].map((batch) => batch.items.length),
    [2, 2, 1],
  );

  const tooBig = setup(context, { examples: 3, limits: { maxRequests: 1000, maxBytes: itemBytes - 1 } });
  const error = await userErrorOf(tooBig.run());
  assert.match(error.message, /example "e0".*more than the \d+ bytes the provider allows in one batch/);
  assert.equal(error.problems[0]!.pointer, '/teacher/mode');
  assert.equal(error.problems[0]!.plugin, 'teacher/fake');
  assert.equal(tooBig.api.calls.submit, 0);
});

test('a stopped run leaves its batches at the provider; the next run (fresh state, same cache file) collects them and submits only what was never submitted', async (context) => {
  const { run, api, cacheFile } = setup(context, { examples: 10, script: { polls: 3 } });
  // Stop once two of the three batches are submitted.
  const first = await run({}, (event) => event.type === 'teacher.batch_submitted' && event.batch === 'batch_2');
  assert.equal(first.report.stopped, 'cancelled');
  assert.equal(first.records.length, 0);
  assert.equal(api.calls.submit, 2);
  const stopped = ofType(first.events, 'teacher.batch_stopped')[0]!;
  assert.deepEqual([stopped.batches, stopped.requests], [2, 8]);
  assert.deepEqual(storeStates(cacheFile), { running: 2 });

  const second = await run();
  assert.equal(second.report.stopped, null);
  assert.equal(second.records.length, 10);
  assert.ok(second.records.every((record) => record.parse_status === 'parsed' && !record.cached));
  // The third batch was never submitted: only it goes out now; the two live ones are collected.
  assert.equal(api.calls.submit, 3);
  assert.equal(api.batches.get('batch_3')!.items.length, 2);
  assert.deepEqual(api.submittedTwice(), []);
  assert.deepEqual(storeStates(cacheFile), { collected: 3 });

  // A third run has nothing to do.
  const third = await run();
  assert.equal(api.calls.submit, 3);
  assert.equal(third.report.records, 10);
});

for (const findBySizeOnly of [false, true]) {
  test(`a submission whose id was never stored (killed as the provider accepted it) is found ${findBySizeOnly ? 'among batches of its size, those on record left out,' : 'by its label'} and collected, not submitted again`, async (context) => {
    const { run, api, cacheFile } = setup(context, { examples: 8 });
    api.findBySizeOnly = findBySizeOnly;
    const submit = api.submit.bind(api);
    // The provider takes the second batch, but the answer never reaches the core: as a kill before the id is stored.
    api.submit = async (items: readonly BatchItem[], label: string) => {
      const id = await submit(items, label);
      if (id === 'batch_2') throw new Error('socket hang up');
      return id;
    };
    const error = await userErrorOf(run());
    assert.match(error.message, /submitting a batch of 4 requests to fake@1\.0\.0 fake\/fake-1 failed: socket hang up/);
    assert.deepEqual(storeStates(cacheFile), { running: 1, submitting: 1 });
    api.submit = submit;

    const { report, records, events } = await run();
    assert.equal(report.stopped, null);
    assert.equal(records.length, 8);
    assert.equal(api.calls.submit, 2);
    assert.deepEqual(api.submittedTwice(), []);
    assert.equal(ofType(events, 'teacher.batch_recovered')[0]!.batch, 'batch_2');
    assert.deepEqual(storeStates(cacheFile), { collected: 2 });
  });
}

test('a submission the provider never got (killed before the call arrived) is forgotten on resume and its requests submitted once', async (context) => {
  const { run, api, cacheFile } = setup(context, { examples: 4 });
  const submit = api.submit.bind(api);
  api.submit = () => Promise.reject(new Error('connect ECONNREFUSED'));
  await userErrorOf(run());
  assert.deepEqual(storeStates(cacheFile), { submitting: 1 });
  api.submit = submit;
  const { records } = await run();
  assert.equal(records.length, 4);
  assert.equal(api.submittedExamples.size, 4);
  assert.deepEqual(api.submittedTwice(), []);
  assert.deepEqual(storeStates(cacheFile), { collected: 1 });
});

test('an expired batch with half its results resubmits only the other half', async (context) => {
  const { run, api } = setup(context, {
    examples: 8,
    limits: { maxRequests: 100, maxBytes: 1_000_000 },
    script: {
      ending: (submission) => (submission === 1 ? 'expired' : 'ended'),
      outcome: (request, submission) =>
        submission === 1 && Number(request.exampleId.slice(1)) % 2 === 1
          ? { kind: 'missing' }
          : { kind: 'answer', text: `Answer: yes because the question says so plainly` },
    },
  });
  const { report, records, events } = await run();
  assert.equal(report.stopped, null);
  assert.equal(records.length, 8);
  assert.ok(records.every((record) => record.parse_status === 'parsed'));
  assert.deepEqual(
    api.batches.get('batch_2')!.items.map((item) => item.request.exampleId),
    ['e1', 'e3', 'e5', 'e7'],
  );
  assert.equal(api.batches.size, 2);
  for (const [example, count] of api.submittedExamples) assert.equal(count, Number(example.slice(1, -2)) % 2 === 1 ? 2 : 1, example);
  const collected = ofType(events, 'teacher.batch_collected');
  assert.deepEqual([collected[0]!.state, collected[0]!.answered, collected[0]!.resubmitted], ['expired', 4, 4]);
  // Each request is paid once: the 4 that expired unanswered cost nothing.
  assert.ok(Math.abs(report.cost_usd - 8 * 60e-6) < 1e-12);
});

test('answers collected by a run stopped before their example was complete are counted as paid by the next run, once', async (context) => {
  // Two samples per example, three requests per batch: e1's first sample is in batch_1, its second in batch_2.
  const { run, api } = setup(context, { examples: 3, limits: { maxRequests: 3, maxBytes: 1_000_000 } });
  const first = await run({ samples: 2 }, (event) => event.type === 'teacher.batch_collected' && event.batch === 'batch_1');
  assert.equal(first.report.stopped, 'cancelled');
  assert.deepEqual(
    first.records.map((record) => record.id),
    ['e0'],
  );

  const second = await run({ samples: 2 });
  assert.equal(second.report.stopped, null);
  assert.equal(api.calls.submit, 2);
  assert.deepEqual(api.submittedTwice(), []);
  const records = byExample(second.records);
  assert.equal(records.size, 3);
  // e1's first answer was paid by batch_1 in the stopped run: its record counts both answers, none as a free hit.
  for (const record of records.values()) {
    assert.equal(record.cached, false, record.id);
    assert.ok(Math.abs(record.cost_usd - 2 * 60e-6) < 1e-12, `${record.id}: ${record.cost_usd}`);
  }
  // And once only: a third run over a fresh output counts the cached answers as free.
  const third = await run({ samples: 2, outputFile: path.join(path.dirname(setupFiles.get(api)!), 'again.jsonl') });
  assert.equal(third.records.length, 3);
  assert.ok(third.records.every((record) => record.cached && record.cost_usd === 0));
});

test('a failed-retryable line is submitted again; a refused line gives a failed record that the next run asks again', async (context) => {
  let refusing = true;
  const { run, api } = setup(context, {
    examples: 4,
    script: {
      outcome: (request, submission) => {
        if (request.exampleId === 'e1' && submission === 1) return { kind: 'fail', reason: 'server_error: try again', retryable: true };
        if (request.exampleId === 'e2' && refusing)
          return { kind: 'fail', reason: 'invalid_request_error: prompt is too long', retryable: false };
        return { kind: 'answer', text: 'Answer: yes because the question says so plainly' };
      },
    },
  });
  const first = await run();
  const examples = byExample(first.records);
  assert.equal(examples.get('e1')!.parse_status, 'parsed');
  assert.equal(api.submittedExamples.get('e1#0'), 2);
  assert.deepEqual([examples.get('e2')!.parse_status, examples.get('e2')!.reason], ['failed', 'invalid_request_error: prompt is too long']);
  assert.equal(api.submittedExamples.get('e2#0'), 1);
  assert.deepEqual([first.report.failed, first.report.stopped], [1, 'failures']);
  assert.ok(ofType(first.events, 'teacher.failed').some((event) => event.example === 'e2'));

  refusing = false;
  const second = await run();
  assert.equal(byExample(second.records).get('e2')!.parse_status, 'parsed');
  assert.equal(api.submittedExamples.get('e2#0'), 2);
  assert.equal(api.submittedExamples.get('e0#0'), 1);
  assert.equal(second.report.stopped, null);
});

test('a retryable line that keeps failing ends failed after the retry limit, not in a loop', async (context) => {
  const { run, api } = setup(context, {
    examples: 2,
    script: {
      outcome: (request) =>
        request.exampleId === 'e0' ? { kind: 'fail', reason: 'server_error', retryable: true } : { kind: 'answer', text: 'Answer: no' },
    },
  });
  const { records } = await run();
  // maxRetries 2: submitted three times in all.
  assert.equal(api.submittedExamples.get('e0#0'), 3);
  assert.match(byExample(records).get('e0')!.reason!, /^server_error \(gave up after 3 batches\)$/);
});

test('a batch id the provider no longer knows is a clear error naming it and the fix; nothing collected is lost, and after forgetting it the rest is submitted', async (context) => {
  const { run, api, cacheFile, outputFile } = setup(context, {
    examples: 8,
    script: { polls: 1, ending: () => 'ended' },
  });
  // The second batch never ends in the first run, which stops once the first batch is collected.
  const realStatus = api.status.bind(api);
  const running: BatchStatus = { state: 'running', providerState: 'in_progress', counts: { total: 4, succeeded: 0, failed: 0 } };
  api.status = async (batchId: string) => (batchId === 'batch_2' ? running : realStatus(batchId));
  const first = await run({}, (event) => event.type === 'teacher.batch_collected');
  assert.equal(first.records.length, 4);
  api.status = realStatus;
  api.unknownIds.add('batch_2');

  const error = await userErrorOf(run());
  assert.match(
    error.message,
    /the provider no longer knows batch batch_2 \(submitted .*, 4 requests, to fake@1\.0\.0 fake\/fake-1\): 404 No batch found/,
  );
  assert.equal(error.problems[0]!.plugin, 'teacher/fake');
  assert.match(error.problems[0]!.fix!, /distill cache forget-batch batch_2 --path .*teacher-cache\.sqlite/);
  // The first batch's answers are in the output and the cache.
  assert.equal(readRecords(outputFile).length, 4);
  assert.equal(answersIn(cacheFile), 4);

  const cache = TeacherCache.open(cacheFile);
  try {
    assert.equal(forgetBatch(cache, 'batch_2')?.itemCount, 4);
    assert.equal(forgetBatch(cache, 'batch_2'), null);
  } finally {
    cache.close();
  }
  const third = await run();
  assert.equal(third.records.length, 8);
  assert.equal(third.report.stopped, null);
  // Only the forgotten batch's requests went out again; the collected ones never did.
  assert.deepEqual(
    api.batches.get('batch_3')!.items.map((item) => item.request.exampleId),
    ['e4', 'e5', 'e6', 'e7'],
  );
  assert.equal(api.submittedExamples.get('e0#0'), 1);
});

test('the budget counts submitted work: max_requests stops submission and the report says budget', async (context) => {
  const { run, api } = setup(context, { examples: 10 });
  const { report, records, events } = await run({ budget: { max_requests: 5 } });
  assert.equal(api.submittedExamples.size, 5);
  assert.equal(records.length, 5);
  assert.equal(report.stopped, 'budget');
  assert.equal(ofType(events, 'teacher.progress').at(-1)!.skipped, 5);
  // Raising the budget continues with the other five.
  const second = await run({ budget: { max_requests: 10 } });
  assert.equal(second.report.stopped, null);
  assert.equal(api.submittedExamples.size, 10);
  assert.deepEqual(api.submittedTwice(), []);
});

test('max_usd counts estimates of submitted work (prompt tokens plus max_tokens at the batch price) before any answer', async (context) => {
  const { run, api } = setup(context, { examples: 10, script: { polls: 50 } });
  // Each request is estimated at 6 prompt tokens ("Q: question N" + 3) and 50 completion tokens: $53 per million.
  const estimate = (6 * 0.5 + 50 * 1) / 1e6;
  const { report } = await run({ budget: { max_usd: estimate * 2.5 } });
  // Two estimates are below the limit, the third crosses it: three submitted, seven skipped.
  assert.equal(api.submittedExamples.size, 3);
  assert.equal(report.stopped, 'budget');
});

test('answers already cached in real time are used, not batched again', async (context) => {
  const { run, api, outputFile } = setup(context, { examples: 10 });
  const realtime = batchTeacher(undefined);
  const warm = await run({ mode: 'realtime', teacher: realtime, dataset: arrayDataset(numberedExamples(6)) });
  assert.equal(realtime.realtimeCalls, 6);
  assert.equal(warm.records.length, 6);
  const { records, report } = await run({ outputFile: path.join(path.dirname(outputFile), 'second.jsonl') });
  assert.equal(records.length, 10);
  assert.equal(api.submittedExamples.size, 4);
  assert.deepEqual([...api.submittedExamples.keys()].sort(), ['e6#0', 'e7#0', 'e8#0', 'e9#0']);
  assert.equal(report.cached, 6);
});

test('a batch failed as a whole frees its requests; failing again for the same requests stops with the provider reason', async (context) => {
  const once = setup(context, { examples: 3, script: { ending: (submission) => (submission === 1 ? 'failed' : 'ended') } });
  const recovered = await once.run();
  assert.equal(recovered.records.length, 3);
  assert.equal(once.api.calls.submit, 2);
  assert.equal(ofType(recovered.events, 'teacher.batch_failed')[0]!.reason, 'input file invalid (line 1)');

  const twice = setup(context, { examples: 3, script: { ending: () => 'failed' } });
  const error = await userErrorOf(twice.run());
  assert.match(
    error.message,
    /failed batch batch_2 as a whole: "input file invalid \(line 1\)"; it failed batch batch_1 holding the same requests before/,
  );
  assert.equal(twice.api.calls.submit, 2);
});

test('teacher.mode: batch with a teacher that has no batch API, or without the cache, is a clear error at the pointer naming the plugin', async (context) => {
  const { run } = setup(context, { examples: 2 });
  const error = await userErrorOf(run({ teacher: batchTeacher(undefined) }));
  assert.equal(error.problems[0]!.pointer, '/teacher/mode');
  assert.equal(error.problems[0]!.plugin, 'teacher/fake');
  assert.match(error.problems[0]!.message, /"fake" offers no batch API/);
  const noCache = await userErrorOf(run({ cache: null }));
  assert.equal(noCache.problems[0]!.pointer, '/cache/enabled');
});
