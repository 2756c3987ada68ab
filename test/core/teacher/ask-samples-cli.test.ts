import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import type { TeacherReport } from '../../../core/teacher/teacher-report.js';
import { startProviderServer } from '../../support/provider-server.js';
import { killAtRandomPoints } from '../../support/random-kills.js';
import { runDistill } from '../../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** The fixture pipeline with `teacher.samples` (and, for Anthropic, its teacher in place of OpenAI's). */
function samplingPipeline(
  directory: string,
  baseUrl: string,
  options: { readonly samples: number; readonly count: number; readonly anthropic?: boolean; readonly concurrency?: number },
): string {
  const file = writeTeachPipeline({ directory, baseUrl, count: options.count, concurrency: options.concurrency });
  let text = readFileSync(file, 'utf8').replace('\n  limits:\n', `\n  samples: ${options.samples}\n  limits:\n`);
  if (options.anthropic)
    text = text.replace('use: openai', 'use: anthropic').replace('model: gpt-4o-mini', 'model: claude-3-5-haiku-latest');
  writeFileSync(file, text);
  return file;
}

const samples = 3;
const examples = 30;
const concurrency = 4;
const kills = 2;
/** An answer sent this long before a kill must have been committed: the child had all that time. */
const graceMilliseconds = 1500;

test(
  'kill -9 of distill teach between the samples of examples loses no paid answer; the final run combines every sample',
  { timeout: 180_000 },
  async (context) => {
    // Anthropic: one request per sample, so a kill falls between the samples of one example.
    const server = await startProviderServer('anthropic', (request) => ({
      kind: 'answer',
      text: `Answer: ${request.attempt % 2 === 0 ? 'no' : 'yes'}, because ${request.prompt} was asked ${request.attempt} times`,
      delayMilliseconds: 10 + Math.floor(Math.random() * 30),
    }));
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = samplingPipeline(directory, server.baseUrl, { samples, count: examples, anthropic: true, concurrency });
    // Each kill after a random number of new answers (so the child is mid-work), plus a random instant.
    const killed = await killAtRandomPoints(
      ['teach', pipeline],
      Array.from({ length: kills }, () => ({ phase: 'answers', calls: () => server.answers.length, between: [5, 29] as const })),
      30,
    );
    // The moment each process was gone: answers the server flushed while it was dying never arrived.
    const killTimes = killed.map((moment) => moment.killedAt);
    const moments = killed.map((moment, round) => `round ${round}: after ${moment.callsBeforeKill} answers`);
    assert.ok(server.answers.length < examples * samples, `the kills came too late to test anything (${moments.join('; ')})`);

    const final = await runDistill(['teach', pipeline, '--json'], {}, 120_000);
    assert.equal(final.code, 0, final.stderr);
    const files = teachOutputFiles(directory);
    const records = readFileSync(files.records, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TeacherRecord);
    assert.equal(records.length, examples, moments.join('; '));
    for (const record of records) {
      assert.equal(record.samples?.length, samples, record.id);
      assert.ok(record.samples.every((sample) => sample.parse_status === 'parsed'));
      assert.equal(
        Object.values(record.votes!).reduce((left, right) => left + right, 0),
        samples,
      );
    }
    const report = JSON.parse(readFileSync(files.report, 'utf8')) as TeacherReport;
    assert.equal(report.answers?.asked, examples * samples);

    // Every answer sent well before a kill was committed: the only answers sent twice are those the
    // server sent in the moments before a kill, when the child may have died before committing them.
    const atRisk = server.answers.filter((answer) =>
      killTimes.some((kill) => kill >= answer.sentAt && kill - answer.sentAt < graceMilliseconds),
    );
    const askedAgain = server.answers.length - examples * samples;
    assert.ok(askedAgain <= atRisk.length, `${askedAgain} answers asked again, ${atRisk.length} at risk (${moments.join('; ')})`);
    // …and at most the requests in flight at each kill were asked twice.
    assert.ok(askedAgain <= kills * concurrency, `${askedAgain} answers asked again (${moments.join('; ')})`);
  },
);

test('distill teach with samples and a teacher at temperature 0 fails with the pointer, the plugin and the fix, sending nothing', async (context) => {
  const server = await startProviderServer('openai');
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = samplingPipeline(directory, server.baseUrl, { samples: 5, count: 4 });
  const run = await runDistill(['teach', pipeline]);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /teacher\.samples is 5, but the openai teacher cannot give varied answers/);
  assert.match(run.stderr, /\/teacher\/samples/);
  assert.match(run.stderr, /teacher\/openai/);
  assert.match(run.stderr, /set options\.temperature, e\.g\. 0\.7, or remove teacher\.samples/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(server.requests.length, 0);
});

test('the teacher stage keeps its signature with samples 1 (said or not); samples 3 is another stage that reuses the first answers', async (context) => {
  const server = await startProviderServer('openai', (request) => ({
    kind: 'answer',
    text: 'Answer: yes, because it is so',
    choices: Array.from({ length: Number(request.body.n ?? 1) }, () => ({ text: 'Answer: yes, because it is so' })),
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const stages = path.join(directory, 'runs', 'teach-fixture', 'stages', 'teacher');
  const teachWith = async (samples: number | null) => {
    const file = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 3, teacherOptions: { temperature: 0.7 } });
    if (samples !== null) writeFileSync(file, readFileSync(file, 'utf8').replace('\n  limits:\n', `\n  samples: ${samples}\n  limits:\n`));
    const run = await runDistill(['teach', file]);
    assert.equal(run.code, 0, run.stderr);
    return readdirSync(stages).sort();
  };
  const [unsaid] = await teachWith(null);
  assert.deepEqual(await teachWith(1), [unsaid], 'samples: 1 is the stage it always was');
  assert.equal(server.requests.length, 3);
  const folders = await teachWith(3);
  assert.equal(folders.length, 2);
  // Each example's first answer came from the cache: one request with n=2 each.
  assert.deepEqual(
    server.requests.slice(3).map((request) => request.body.n),
    [2, 2, 2],
  );
});
