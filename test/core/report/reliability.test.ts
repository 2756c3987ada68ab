import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { reliabilityOfFile, reliabilityOfRecords } from '../../../core/report/reliability.js';
import { renderHtmlReport, renderMarkdownReport } from '../../../core/report/render-report.js';
import type { RunSummary } from '../../../core/report/run-summary.js';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** A record of an NLI example whose teacher answered `teacher` (gold `gold`) with `confidence` from `source`. */
function record(
  index: number,
  teacher: string | null,
  gold: string | null,
  confidence?: number,
  source: 'votes' | 'logprobs' = 'votes',
): TeacherRecord {
  return {
    id: `nli/train/${index}`,
    split: 'train',
    fields: {},
    student_input: `premise ${index} </s> hypothesis`,
    gold_label: gold,
    teacher_label: teacher,
    rationale: null,
    parse_status: teacher === null ? 'unparsed' : 'parsed',
    reason: null,
    raw_text: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    cached: false,
    ...(confidence === undefined ? {} : { confidence, confidence_source: source }),
  };
}

/**
 * 5 answers each: 20 records at 3/5 (12 right), 10 at 4/5 (9 right), 6 at 5/5 (all right), 4 at 2/5
 * (1 right); 3 single answers with a label probability of 0.95 (2 right); 5 with no confidence; 2 with
 * a confidence and no gold; 1 unparsed.
 */
function records(): TeacherRecord[] {
  const list: TeacherRecord[] = [];
  const add = (
    count: number,
    right: number,
    confidence: number | undefined,
    source?: 'votes' | 'logprobs',
    gold: string | null = 'entailment',
  ) => {
    for (let index = 0; index < count; index++) {
      list.push(record(list.length, index < right ? 'entailment' : 'neutral', gold, confidence, source));
    }
  };
  add(20, 12, 3 / 5);
  add(10, 9, 4 / 5);
  add(6, 6, 1);
  add(4, 1, 2 / 5);
  add(3, 2, 0.95, 'logprobs');
  add(5, 3, undefined);
  add(2, 2, 0.8, 'votes', null);
  list.push(record(list.length, null, 'entailment'));
  return list;
}

test('reliability: each bin counts the records with confidence and gold in it, and the right ones; sources over all', () => {
  const reliability = reliabilityOfRecords(records())!;
  assert.equal(reliability.records, 51);
  assert.equal(reliability.binned, 43);
  const filled = reliability.bins.filter((bin) => bin.records > 0).map((bin) => [bin.low, bin.records, bin.correct]);
  assert.deepEqual(filled, [
    [0.4, 4, 1],
    [0.6, 20, 12],
    [0.8, 10, 9],
    [0.9, 9, 8],
  ]);
  assert.equal(reliability.bins.length, 10);
  assert.ok(Math.abs(reliability.bins[9]!.meanConfidence! - (6 * 1 + 3 * 0.95) / 9) < 1e-12);
  assert.deepEqual(reliability.sources, [
    { source: 'votes', records: 42 },
    { source: 'logprobs', records: 3 },
    { source: 'none', records: 6 },
  ]);
  // Without any confidence (or without gold) there is nothing to chart.
  assert.equal(reliabilityOfRecords(records().map((each) => ({ ...each, confidence: undefined }))), null);
  assert.equal(reliabilityOfRecords(records().map((each) => ({ ...each, gold_label: null }))), null);
});

test('reliability from a records file: read line by line, a line cut short skipped, a missing file none', async (context) => {
  const folder = temporaryDirectory(context, 'distill-reliability-');
  const file = path.join(folder, 'teacher-records.jsonl');
  writeFileSync(
    file,
    records()
      .map((each) => JSON.stringify(each))
      .join('\n') + '\n{"id": "cut',
  );
  assert.deepEqual(await reliabilityOfFile(file), reliabilityOfRecords(records()));
  assert.equal(await reliabilityOfFile(path.join(folder, 'absent.jsonl')), null);
});

const summary: RunSummary = {
  pipeline: 'self-consistency',
  createdAt: '2026-12-06T12:00:00.000Z',
  teacher: null,
  student: null,
  sweep: [],
  stages: [],
};

test('the report draws the reliability chart with the diagonal and lists the counts, only where confidence and gold exist', () => {
  const reliability = reliabilityOfRecords(records())!;
  const html = renderHtmlReport({ ...summary, reliability });
  assert.match(html, /<figcaption>Teacher reliability<\/figcaption>/);
  assert.match(html, />teacher \(43 records\)</);
  assert.match(html, />calibrated</);
  // Accuracy against confidence, in percent.
  assert.match(html, /<text[^>]*>accuracy on gold \(%\)<\/text>/);
  // One point per filled bin, the diagonal's two ends: 6 circles in the chart.
  const chart = /<figure>(<svg[\s\S]*?<\/svg>)<figcaption>Teacher reliability/.exec(html)![1]!;
  assert.equal(chart.match(/<circle /g)!.length, 6);
  assert.match(html, /Teacher confidence against gold \(43 of 51 records have both\)/);
  assert.match(html, /<tr><td>0.6–0.7<\/td><td>20<\/td><td>12<\/td><td>60\.0 ?%<\/td><td>0\.60<\/td><\/tr>/);
  assert.match(html, /<tr><td>0.9–1<\/td><td>9<\/td><td>8<\/td><td>88\.9 ?%<\/td><td>0\.98<\/td><\/tr>/);
  assert.match(html, /<tr><td>votes \(self-consistency\)<\/td><td>42<\/td><td>82\.4 ?%<\/td><\/tr>/);
  assert.match(html, /<tr><td>none<\/td><td>6<\/td>/);
  assert.match(renderMarkdownReport({ ...summary, reliability }), /\| 0\.8–0\.9 \| 10 \| 9 \| 90\.0 ?% \| 0\.80 \|/);

  for (const without of [{ ...summary }, { ...summary, reliability: null }]) {
    const plain = renderHtmlReport(without);
    assert.doesNotMatch(plain, /Teacher reliability|Teacher confidence against gold|confidence comes from/);
  }
});
