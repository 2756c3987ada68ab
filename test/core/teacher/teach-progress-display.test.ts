import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DistillEvent } from '../../../core/services/event-stream.js';
import { createTeachProgressDisplay, formatDuration, progressLine } from '../../../core/teacher/teach-progress-display.js';

const progress = (done: number, fields: Record<string, unknown> = {}): DistillEvent => ({
  type: 'teacher.progress',
  time: 0,
  done,
  total: 100,
  cached: 10,
  failed: 1,
  skipped: 0,
  dollars: 0.0123,
  done_this_run: done,
  elapsed_ms: done * 1000,
  ...fields,
});

test('a progress line shows done/total, cached, failed, dollars and an ETA from this run\'s pace', () => {
  assert.equal(progressLine(progress(40)), '40/100 done, 10 cached, 1 failed, $0.0123, ETA 1m00s');
  assert.equal(progressLine(progress(0)), '0/100 done, 10 cached, 1 failed, $0.0123, ETA ?');
  assert.equal(formatDuration(3_725_000), '1h02m');
});

test('plain-line mode writes at each tenth of the work and once at the end; JSON mode writes every event', () => {
  const lines: string[] = [];
  const display = createTeachProgressDisplay('lines', (text) => lines.push(text));
  for (let done = 0; done <= 100; done++) display.listener(progress(done));
  display.finish();
  assert.equal(lines.length, 11);
  assert.match(lines.at(-1)!, /^teacher: 100\/100 done/);
  const json: string[] = [];
  const jsonDisplay = createTeachProgressDisplay('json', (text) => json.push(text));
  jsonDisplay.listener(progress(5));
  assert.equal(JSON.parse(json[0]!).done, 5);
});

test('the bar redraws one line in place', () => {
  const writes: string[] = [];
  let now = 0;
  const display = createTeachProgressDisplay('bar', (text) => writes.push(text), () => now);
  display.listener(progress(50));
  now += 10;
  display.listener(progress(51)); // within 100 ms: not redrawn
  display.finish();
  assert.equal(writes.length, 3);
  assert.match(writes[0]!, /^\r\x1b\[2K\[#{12}\.{12}\]  50% 50\/100 done/);
  assert.equal(writes.at(-1), '\n');
});
