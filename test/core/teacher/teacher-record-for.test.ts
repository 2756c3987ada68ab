import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { EngineOutcome } from '../../../core/teacher/request-engine.js';
import { teacherRecordFor } from '../../../core/teacher/teacher-record-for.js';
import { answerParser, arrayDataset, numberedExamples } from '../../support/teach-fixtures.js';

const example: DatasetExample = { id: 'e0', split: 'train', fields: { question: 'question 0' }, goldLabel: 'yes' };
const plugins = { dataset: arrayDataset(numberedExamples(1)), parser: answerParser() };
/** One dollar per prompt token and two per completion token, so sums are easy to check. */
const costOf = (usage: { promptTokens: number; completionTokens: number }) => usage.promptTokens + 2 * usage.completionTokens;

function answered(text: string, cached = false, usage = { promptTokens: 3, completionTokens: 1 }): EngineOutcome {
  return { status: 'answered', response: { text, usage, model: 'm', finishReason: 'stop' }, cached, attempts: cached ? 0 : 1 };
}
const failed: EngineOutcome = { status: 'failed', reason: 'HTTP 500 (gave up after 2 attempts)', attempts: 2 };

test('a tie goes to the label of the earliest answer among the tied; unparsed answers count in the denominator', () => {
  const record = teacherRecordFor(
    example,
    [answered('nothing to say'), answered('Answer: no'), answered('Answer: yes'), answered('Answer: yes'), answered('Answer: no')],
    plugins,
    costOf,
  )!;
  assert.deepEqual(
    [record.teacher_label, record.votes, record.confidence, record.confidence_source, record.raw_text],
    ['no', { no: 2, yes: 2 }, 2 / 5, 'votes', 'Answer: no'],
  );
  assert.deepEqual(
    record.samples!.map((sample) => sample.parse_status),
    ['unparsed', 'parsed', 'parsed', 'parsed', 'parsed'],
  );
});

test('the rationale is the longest among the agreeing answers (the earliest of equal ones); tokens and cost are summed, cached answers cost nothing', () => {
  const long = 'because the premise says it in so many words';
  const record = teacherRecordFor(
    example,
    [
      answered('Answer: yes. Because it is plainly said so here', true),
      answered(`Answer: no. Because ${long} and more words besides`),
      answered(`Answer: yes. Because ${long}`),
      answered(`Answer: yes. Because ${long.replace('premise', 'context')}`),
    ],
    plugins,
    costOf,
  )!;
  assert.equal(record.teacher_label, 'yes');
  assert.equal(record.rationale, long);
  assert.equal(record.raw_text, 'Answer: yes. Because it is plainly said so here');
  assert.deepEqual([record.prompt_tokens, record.completion_tokens, record.cost_usd, record.cached], [12, 4, 3 * 5, false]);
  assert.equal(record.confidence, 3 / 4);
});

test('no parsed answer: unparsed, no label and no confidence; every answer cached: a cached record', () => {
  const record = teacherRecordFor(example, [answered('hmm', true), answered('well', true)], plugins, costOf)!;
  assert.deepEqual(
    [record.parse_status, record.teacher_label, record.confidence, record.votes, record.cached, record.cost_usd],
    ['unparsed', null, undefined, {}, true, 0],
  );
  assert.match(record.reason!, /^none of the 2 answers has a label; the first: no label word found$/);
});

test('a skipped request leaves the example for the next run; failed requests make a failed record carrying what the answers that came cost', () => {
  assert.equal(teacherRecordFor(example, [answered('Answer: yes'), { status: 'skipped', reason: 'budget' }], plugins, costOf), null);
  const some = teacherRecordFor(example, [answered('Answer: yes'), failed, answered('Answer: yes', true)], plugins, costOf)!;
  assert.deepEqual(
    [some.parse_status, some.reason, some.teacher_label, some.confidence, some.cost_usd, some.prompt_tokens],
    ['failed', '1 of 3 answers failed: HTTP 500 (gave up after 2 attempts)', null, undefined, 5, 6],
  );
  const all = teacherRecordFor(example, [failed, failed], plugins, costOf)!;
  assert.equal(all.reason, 'all 2 answers failed: HTTP 500 (gave up after 2 attempts)');
});

test('one answer without log-probabilities is the record it always was: no confidence, votes or samples', () => {
  const record = teacherRecordFor(example, [answered('Answer: yes')], plugins, costOf)!;
  assert.deepEqual(record, {
    id: 'e0',
    split: 'train',
    fields: { question: 'question 0' },
    student_input: 'question 0',
    gold_label: 'yes',
    teacher_label: 'yes',
    rationale: null,
    parse_status: 'parsed',
    reason: null,
    raw_text: 'Answer: yes',
    prompt_tokens: 3,
    completion_tokens: 1,
    cost_usd: 5,
    cached: false,
  });
});
