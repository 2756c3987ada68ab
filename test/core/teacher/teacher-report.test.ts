import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { costOf, findPrice } from '../../../core/teacher/price-table.js';
import { readExistingOutput, recordKey } from '../../../core/teacher/teacher-output.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import {
  buildTeacherReport,
  labelsEqual,
  TeacherReportTotals,
  type TeacherReport,
  type TeacherReportContext,
} from '../../../core/teacher/teacher-report.js';
import { openAiAccounting } from '../../../plugins/teachers/openai/openai-accounting.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const reportContext: TeacherReportContext = {
  teacher: { plugin: 'openai', version: '1.0.0', provider: 'openai', model: 'gpt-4o-mini' },
  price: findPrice(openAiAccounting('gpt-4o-mini')),
  splits: ['train'],
  stopped: null,
  examples: 9,
  requestsThisRun: 3,
  costThisRun: 0.001,
  durationSeconds: 1.5,
};

/**
 * The report computed the way it was before the totals were streamed: filters and sums over a list
 * held in memory. Kept here as the reference the streaming totals must agree with.
 */
function listReport(
  records: readonly TeacherRecord[],
  labelsMatch: (predicted: string, gold: string) => boolean = labelsEqual,
): TeacherReport {
  const count = (predicate: (record: TeacherRecord) => boolean) => records.filter(predicate).length;
  const withGold = records.filter((record) => record.gold_label !== null);
  const correct = withGold.filter(
    (record) => record.teacher_label !== null && labelsMatch(record.teacher_label, record.gold_label!),
  ).length;
  const answered = records.filter((record) => record.parse_status !== 'failed');
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const promptTokens = sum(records.map((record) => record.prompt_tokens));
  const completionTokens = sum(records.map((record) => record.completion_tokens));
  const listPrice = costOf({ promptTokens, completionTokens }, reportContext.price);
  const reasons: Record<string, number> = {};
  for (const record of records) if (record.reason) reasons[record.reason] = (reasons[record.reason] ?? 0) + 1;
  const failedReasons: Record<string, number> = {};
  for (const record of records)
    if (record.reason && record.parse_status === 'failed') failedReasons[record.reason] = (failedReasons[record.reason] ?? 0) + 1;
  const mean = (total: number) => (answered.length > 0 ? total / answered.length : 0);
  return {
    teacher: reportContext.teacher,
    price: reportContext.price,
    splits: reportContext.splits,
    stopped: reportContext.stopped,
    examples: reportContext.examples,
    records: records.length,
    remaining: Math.max(0, reportContext.examples - records.length),
    parsed: count((record) => record.parse_status === 'parsed'),
    unparsed: count((record) => record.parse_status === 'unparsed'),
    failed: count((record) => record.parse_status === 'failed'),
    failed_digest: reportContext.failedDigest ?? null,
    cached: count((record) => record.cached),
    requests_this_run: reportContext.requestsThisRun,
    accuracy: withGold.length > 0 ? correct / withGold.length : null,
    examples_with_gold: withGold.length,
    explanation_rate: records.length > 0 ? count((record) => record.rationale !== null) / records.length : null,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    cost_usd: sum(records.map((record) => record.cost_usd)),
    cost_usd_this_run: reportContext.costThisRun,
    list_price_usd: listPrice,
    per_example: { prompt_tokens: mean(promptTokens), completion_tokens: mean(completionTokens), list_price_usd: mean(listPrice) },
    reasons: Object.fromEntries(Object.entries(reasons).sort((left, right) => right[1] - left[1])),
    failed_reasons: Object.fromEntries(Object.entries(failedReasons).sort((left, right) => right[1] - left[1])),
    duration_seconds: reportContext.durationSeconds,
  };
}

function record(id: string, overrides: Partial<TeacherRecord> = {}): TeacherRecord {
  return {
    id,
    split: 'train',
    fields: { question: `question ${id}` },
    student_input: `question ${id}`,
    gold_label: 'yes',
    teacher_label: 'yes',
    rationale: 'because the question says so plainly',
    parse_status: 'parsed',
    reason: null,
    raw_text: 'Answer: yes, because the question says so plainly',
    prompt_tokens: 100,
    completion_tokens: 20,
    cost_usd: 0.000027,
    cached: false,
    ...overrides,
  };
}

/** Every kind of record the report tells apart. */
const mixedRecords: readonly TeacherRecord[] = [
  record('e0'),
  record('e1', { teacher_label: 'No.', gold_label: 'no', cost_usd: 0.0000301, completion_tokens: 31 }),
  record('e2', { teacher_label: 'yes', gold_label: 'no', rationale: null, cached: true, cost_usd: 0 }),
  record('e3', { teacher_label: null, rationale: null, parse_status: 'unparsed', reason: 'no label word found', completion_tokens: 5 }),
  record('e4', { teacher_label: null, rationale: null, parse_status: 'unparsed', reason: 'empty answer', completion_tokens: 0 }),
  record('e5', {
    teacher_label: null,
    rationale: null,
    parse_status: 'failed',
    reason: 'HTTP 500 (gave up after 7 attempts)',
    raw_text: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
  }),
  record('e6', { gold_label: null, teacher_label: 'maybe', prompt_tokens: 117 }),
  record('e7', { teacher_label: null, rationale: null, parse_status: 'unparsed', reason: 'empty answer', cached: true, cost_usd: 0 }),
  record('e8', { teacher_label: 'YES ', cost_usd: 0.0000123 }),
];

test('the streamed totals give the same report as the arithmetic over the whole list, with either label comparison', () => {
  const totals = new TeacherReportTotals();
  for (const each of mixedRecords) totals.add(each);
  const report = totals.build(reportContext);
  assert.deepEqual(report, listReport(mixedRecords));
  assert.deepEqual(buildTeacherReport(mixedRecords, reportContext), report);
  // Spot checks, so that a shared mistake in both cannot pass unnoticed.
  assert.deepEqual([report.records, report.parsed, report.unparsed, report.failed, report.cached, report.remaining], [9, 5, 3, 1, 2, 0]);
  assert.deepEqual(report.reasons, { 'empty answer': 2, 'no label word found': 1, 'HTTP 500 (gave up after 7 attempts)': 1 });
  assert.deepEqual(Object.keys(report.reasons), ['empty answer', 'no label word found', 'HTTP 500 (gave up after 7 attempts)']);
  // Gold on 8 records; e0, e1 ("No." against "no") and e8 ("YES " against "yes") match.
  assert.equal(report.accuracy, 3 / 8);

  const exact = (predicted: string, gold: string) => predicted === gold;
  const exactTotals = new TeacherReportTotals(exact);
  for (const each of mixedRecords) exactTotals.add(each);
  assert.deepEqual(exactTotals.build(reportContext), listReport(mixedRecords, exact));
  assert.equal(exactTotals.build(reportContext).accuracy, 1 / 8);
  assert.deepEqual(buildTeacherReport(mixedRecords, { ...reportContext, labelsMatch: exact }), listReport(mixedRecords, exact));
});

test('no records: counts are zero, rates null, means zero', () => {
  const report = new TeacherReportTotals().build(reportContext);
  assert.deepEqual(report, listReport([]));
  assert.deepEqual([report.accuracy, report.explanation_rate, report.per_example.prompt_tokens, report.remaining], [null, null, 0, 9]);
});

test('resume streams the kept records of the output, returns their keys, and rewrites it without failed, repeated and torn lines', async (context) => {
  const file = path.join(temporaryDirectory(context), 'teacher-records.jsonl');
  const devRecord = record('e0', { split: 'dev', cost_usd: 0.5 });
  const lines = [
    ...mixedRecords.map((each) => JSON.stringify(each)),
    JSON.stringify(devRecord),
    // The same example twice (two processes, one output): the first line wins.
    JSON.stringify(record('e0', { teacher_label: 'no' })),
    'not json at all',
    '',
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  // A kill in mid-write.
  appendFileSync(file, '{"id":"e9","split":"tr');

  const seen: TeacherRecord[] = [];
  const trainTotals = new TeacherReportTotals();
  const existing = await readExistingOutput(file, (each) => {
    seen.push(each);
    if (each.split === 'train') trainTotals.add(each);
  });
  const kept = [...mixedRecords.filter((each) => each.parse_status !== 'failed'), devRecord];
  assert.deepEqual(seen, kept);
  assert.deepEqual(existing.records, kept.length);
  // Failed e5, the repeated e0, the line that is not JSON and the torn line.
  assert.equal(existing.dropped, 4);
  assert.deepEqual([...existing.keys].sort(), kept.map((each) => recordKey(each.split, each.id)).sort());
  assert.equal(readFileSync(file, 'utf8'), kept.map((each) => JSON.stringify(each) + '\n').join(''));
  // The report over the requested split equals the one over those records in memory.
  assert.deepEqual(trainTotals.build(reportContext), listReport(kept.filter((each) => each.split === 'train')));

  // A clean file is read as it is and left alone.
  const again: TeacherRecord[] = [];
  const second = await readExistingOutput(file, (each) => again.push(each));
  assert.deepEqual([second.records, second.dropped, again.length], [kept.length, 0, kept.length]);
  assert.equal(readFileSync(file, 'utf8'), kept.map((each) => JSON.stringify(each) + '\n').join(''));

  const missing = await readExistingOutput(path.join(path.dirname(file), 'absent.jsonl'), () => assert.fail('no records expected'));
  assert.deepEqual([missing.records, missing.dropped, missing.keys.size], [0, 0, 0]);
});
