import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { labelProbability } from '../../../core/teacher/label-probability.js';
import { runTeachStage } from '../../../core/teacher/teach-stage.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { openAiTeacher } from '../../../plugins/teachers/openai/openai-teacher.js';
import { startProviderServer } from '../../support/provider-server.js';
import { scaledClock } from '../../support/scaled-clock.js';
import { arrayDataset, numberedExamples, templatePrompt } from '../../support/teach-fixtures.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../../support/test-dependencies.js';

const tokens = (...pairs: [string, number][]) => pairs.map(([token, logprob]) => ({ token, logprob }));

test('the probability of the tokens covering the first occurrence of the label, as a word', () => {
  const answer = tokens(['The', -0.5], [' answer', -0.1], [' is', -0.01], [' yes', -0.2], ['.', -0.3], [' Yes', -0.05], ['!', -0.4]);
  assert.equal(labelProbability('The answer is yes. Yes!', 'yes', answer), Math.exp(-0.2));
  // Case-insensitive: the first occurrence of "Yes" is the lower-case one; the capitalised repeat is not counted.
  assert.equal(labelProbability('The answer is yes. Yes!', 'YES', answer), Math.exp(-0.2));
  // A label split over tokens takes all of them; a token only partly inside counts whole.
  const split = tokens(['Con', -0.1], ['tradiction', -0.2], ['.', -0.3]);
  assert.equal(labelProbability('Contradiction.', 'contradiction', split), Math.exp(-0.1 + -0.2));
  assert.equal(labelProbability('Contradiction.', 'tradiction', split), null, 'not inside a longer word');
  // "no" inside "not" or "know" is no occurrence.
  assert.equal(labelProbability('I do not know', 'no', tokens(['I', 0], [' do', 0], [' not', 0], [' know', 0])), null);
});

test('no confidence when the label is not in the answer or the tokens do not spell it', () => {
  assert.equal(labelProbability('The claim is false.', 'contradiction', tokens(['The claim is false.', -1])), null);
  assert.equal(labelProbability('yes', 'yes', tokens(['ye', -0.1])), null, 'tokens that do not spell the text');
  assert.equal(labelProbability('yes', 'yes', []), null);
});

test('a single answer with log-probabilities gets the label probability as confidence, also when served from the cache', async (context) => {
  // The response recorded from OpenAI's API reference ("Hello! How can I assist you today?"), read by
  // a parser whose label is the answer's first word.
  const server = await startProviderServer('openai', () => ({ kind: 'recorded', fixture: 'openai-chat-completion-logprobs' }));
  context.after(() => server.close());
  const clock = scaledClock(100);
  const teacher = await openAiTeacher.create(
    { model: 'gpt-4o-mini', base_url: server.baseUrl, api_key: 'sk-test-123456789', logprobs: true },
    testDependencies({ clock }),
  );
  const firstWord: Parser = {
    parse: (completion) => ({ status: 'parsed', label: /\w+/.exec(completion)![0].toLowerCase(), rationale: null }),
  };
  const directory = temporaryDirectory(context);
  const teach = async (name: string) => {
    const cache = TeacherCache.open(path.join(directory, 'cache.sqlite'));
    const outputFile = path.join(directory, name, 'teacher-records.jsonl');
    try {
      const report = await runTeachStage({
        dataset: arrayDataset(numberedExamples(2)),
        prompt: templatePrompt('Q: {question}'),
        parser: firstWord,
        teacher,
        teacherPluginId: 'openai',
        teacherPluginVersion: '1.0.0',
        splits: [{ split: 'train' }],
        limits: { concurrency: 2 },
        cache,
        outputFile,
        events: new LocalEventStream(),
        signal: new AbortController().signal,
        clock,
        httpSettings: defaultHttpSettings,
      });
      const records = readFileSync(outputFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as TeacherRecord);
      return { report, records };
    } finally {
      cache.close();
    }
  };
  const paid = await teach('paid');
  assert.deepEqual(
    paid.records.map((record) => [record.teacher_label, record.confidence, record.confidence_source, record.cached]),
    [
      ['hello', Math.exp(-0.31725305), 'logprobs', false],
      ['hello', Math.exp(-0.31725305), 'logprobs', false],
    ],
  );
  assert.deepEqual(paid.report.confidence, { records: 2, mean: Math.exp(-0.31725305) });
  assert.equal(paid.report.answers, undefined, 'one answer per example');
  // The log-probabilities were stored with the answer: the cached run has the same confidence.
  const cached = await teach('cached');
  assert.equal(server.requests.length, 2);
  assert.deepEqual(
    cached.records.map((record) => [record.confidence, record.cached]),
    [
      [Math.exp(-0.31725305), true],
      [Math.exp(-0.31725305), true],
    ],
  );
});
