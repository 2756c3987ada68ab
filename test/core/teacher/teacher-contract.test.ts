import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import type { Teacher, TeacherMessage, TokenCounter } from '../../../core/plugins/kinds/teacher.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { estimatePipeline } from '../../../core/teacher/estimate.js';
import { runTeachStage } from '../../../core/teacher/teach-stage.js';
import { runPipeline, type RunPipelineOptions } from '../../../core/runner/run-pipeline.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { testPath } from '../../support/paths.js';
import { scaledClock } from '../../support/scaled-clock.js';
import { answerParser, arrayDataset, numberedExamples, templatePrompt } from '../../support/teach-fixtures.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// What core needs from a teacher (token counts, prices, its timeout) comes through the teacher
// contract: a provider distill does not ship is counted, priced and timed by its own plugin.

/** A pipeline over the fixture questions with the given teacher block (YAML, indented two spaces). */
async function loadFixturePipeline(context: TestContext, teacher: string, extra = '') {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'pipeline.yaml');
  writeFileSync(
    file,
    `name: new-provider
plugins:
  - ${JSON.stringify(testPath('bin', 'fixtures', 'teach', 'teach-plugins.js'))}
  - ${JSON.stringify(testPath('core', 'teacher', 'fixtures', 'new-provider-teachers.js'))}
dataset:
  use: fixture-questions
  options: { count: 3 }
  splits: { train: train, test: test }
teacher:
${teacher}
  limits: { max_retries: 0 }
prompt: { use: fixture-question-prompt }
parser: { use: fixture-answer-parser }
student: { size: tiny }
trainer: { use: torch }
cache: { enabled: false }
${extra}`,
  );
  return { directory, file, loaded: await loadPipeline(file, { environment: {}, registry: builtinRegistry() }) };
}

/** The pipeline's teacher stage, run alone; its report and records file. */
async function teach(file: string, options: Partial<RunPipelineOptions> = {}) {
  const result = await runPipeline(file, { registry: builtinRegistry(), until: 'teacher', environment: {}, ...options });
  const teacher = result.outcomes.of('teacher')!;
  return { report: teacher.record.output, outputFile: path.join(teacher.directory, 'teacher-records.jsonl') };
}

test("estimate counts and prices a new provider's teacher with its plugin's counter and price, beside the other providers", async (context) => {
  const { loaded } = await loadFixturePipeline(context, '  use: acme\n  options: { model: acme-large }');
  const estimate = await estimatePipeline(loaded, { completionTokens: 7, environment: {} });
  assert.deepEqual(
    estimate.rows.map((row) => [row.provider, row.model, row.teacher]),
    [
      ['acme', 'acme-large', true],
      ['anthropic', 'claude-3-5-haiku', false],
      ['openai', 'gpt-4o-mini', false],
    ],
  );
  const acme = estimate.rows[0]!;
  // "Answer yes or no and explain: train question number N": 10 words and 1 of framing, 3 times.
  assert.deepEqual(
    [acme.counter, acme.exact, acme.prompt_tokens, acme.completion_tokens, acme.price_key],
    ['acme words', true, 33, 21, 'acme/acme-large'],
  );
  assert.ok(Math.abs(acme.cost_usd! - (33 * 2 + 21 * 4) / 1e6) < 1e-12, String(acme.cost_usd));
});

test('estimate leaves out a teacher whose plugin gives no accounting, and still compares the providers that do', async (context) => {
  const { loaded } = await loadFixturePipeline(context, '  use: silent');
  const estimate = await estimatePipeline(loaded, { completionTokens: 7, environment: {} });
  // The pipeline's external acme plugin offers a comparison model like the built-in providers.
  assert.deepEqual(
    estimate.rows.map((row) => [row.provider, row.model, row.teacher]),
    [
      ['acme', 'acme-large', false],
      ['anthropic', 'claude-3-5-haiku', false],
      ['openai', 'gpt-4o-mini', false],
    ],
  );
});

test("the teach stage prices a new provider's answers at its plugin's list price, and the pipeline's prices block wins", async (context) => {
  const listed = await loadFixturePipeline(context, '  use: acme\n  options: { model: acme-large }');
  const { report } = await teach(listed.file);
  assert.deepEqual(report.price, { prompt: 2, completion: 4, key: 'acme/acme-large', source: 'default' });
  // Three answers of 1000 prompt and 500 completion tokens.
  assert.ok(Math.abs(report.cost_usd - (3 * (1000 * 2 + 500 * 4)) / 1e6) < 1e-12, String(report.cost_usd));

  const overridden = await loadFixturePipeline(
    context,
    '  use: acme\n  options: { model: acme-large }',
    'prices:\n  acme/acme-large: { prompt: 1, completion: 1 }\n',
  );
  const second = await teach(overridden.file);
  assert.deepEqual(second.report.price, { prompt: 1, completion: 1, key: 'acme/acme-large', source: 'pipeline' });
  assert.ok(Math.abs(second.report.cost_usd - (3 * 1500) / 1e6) < 1e-12, String(second.report.cost_usd));
});

test("the request engine's timeout is a second above the teacher's own, read from the teacher, not its options", async (context) => {
  const httpSettings = { ...defaultHttpSettings, timeoutMilliseconds: 1000 };
  const reasons = async (teacher: string) => {
    const { file } = await loadFixturePipeline(context, teacher);
    const result = await teach(file, { httpSettings, clock: scaledClock(1000) });
    return readFileSync(result.outputFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as TeacherRecord).reason);
  };
  const withOwn = await reasons('  use: silent\n  options: { timeout_milliseconds: 5000 }');
  assert.equal(withOwn.length, 3);
  for (const reason of withOwn) assert.match(reason ?? '', /^no answer within 6 s \(timeout\)/);
  // Without a timeout of its own, the HTTP settings' applies.
  for (const reason of await reasons('  use: silent')) assert.match(reason ?? '', /^no answer within 1 s \(timeout\)/);
});

/** A teacher answering after a few milliseconds with the given usage, with or without a token counter. */
function plainTeacher(usage: { promptTokens: number; completionTokens: number }, counter?: TokenCounter): Teacher {
  return {
    provider: 'plain',
    model: 'plain-1',
    requestOptions: {},
    cacheable: true,
    ...(counter ? { tokenCounter: () => Promise.resolve(counter) } : {}),
    async complete() {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { text: 'Answer: yes, because the question says so plainly', usage, model: 'plain-1', finishReason: 'stop' };
    },
  };
}

/** Runs the teach stage under a tokens-per-minute limit of 100; returns the clock time it took. */
async function timedTeachStage(context: TestContext, teacher: Teacher, examples: number, concurrency: number): Promise<number> {
  const clock = scaledClock(100);
  const started = clock.now();
  await runTeachStage({
    dataset: arrayDataset(numberedExamples(examples)),
    prompt: templatePrompt('Q: {question}'),
    parser: answerParser(),
    teacher,
    teacherPluginId: 'plain',
    teacherPluginVersion: '1.0.0',
    splits: [{ split: 'train' }],
    limits: { concurrency, tokensPerMinute: 100, maxRetries: 0 },
    cache: null,
    outputFile: path.join(temporaryDirectory(context), 'teacher-records.jsonl'),
    events: new LocalEventStream(),
    signal: new AbortController().signal,
    clock,
    httpSettings: defaultHttpSettings,
  });
  return clock.now() - started;
}

test("tokens per minute: the teacher's own counter estimates each request before it is sent", async (context) => {
  const counted: (readonly TeacherMessage[])[] = [];
  const counter: TokenCounter = {
    method: 'eighty a request',
    exact: false,
    countText: () => 80,
    countMessages: (messages) => {
      counted.push(messages);
      return 80;
    },
  };
  // Two requests at once, each estimated at 80 of the 100 a minute: the second waits for the window,
  // though each really uses 2.
  const elapsed = await timedTeachStage(context, plainTeacher({ promptTokens: 1, completionTokens: 1 }, counter), 2, 2);
  assert.ok(elapsed >= 59_000, `elapsed ${elapsed} ms of clock time`);
  assert.deepEqual(counted[0], [{ role: 'user', content: 'Q: question 0' }]);
});

test('tokens per minute: a teacher without a token counter is limited by the usage its answers report', async (context) => {
  // Nothing is counted before a call, so two requests at once both go.
  const together = await timedTeachStage(context, plainTeacher({ promptTokens: 1, completionTokens: 1 }), 2, 2);
  assert.ok(together < 30_000, `elapsed ${together} ms of clock time`);
  // One after another at 80 real tokens each: the third finds 160 in the window and waits.
  const inTurn = await timedTeachStage(context, plainTeacher({ promptTokens: 70, completionTokens: 10 }), 3, 1);
  assert.ok(inTurn >= 59_000, `elapsed ${inTurn} ms of clock time`);
});
