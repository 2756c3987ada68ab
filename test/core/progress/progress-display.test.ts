import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachProgressDisplay } from '../../../core/progress/progress-display.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';

test('plain mode prints stage changes at once and throttles progress lines', () => {
  let time = 0;
  const events = new LocalEventStream(() => time);
  const output: string[] = [];
  const stop = attachProgressDisplay(events, {
    mode: 'plain',
    write: (text) => output.push(text),
    intervalMilliseconds: 1000,
    now: () => time,
  });
  events.emit('stage.start', { stage: 'teacher' });
  events.emit('teacher.progress', { done: 10, total: 100, cached: 4, failed: 1, dollars: 0.5, done_this_run: 10, elapsed_ms: 1000 });
  time = 200;
  events.emit('teacher.progress', { done: 20, total: 100, cached: 4, failed: 1, dollars: 0.75, done_this_run: 20, elapsed_ms: 2000 });
  time = 1500;
  events.emit('teacher.progress', { done: 30, total: 100, cached: 4, failed: 1, dollars: 1, done_this_run: 30, elapsed_ms: 3000 });
  events.emit('stage.done', { stage: 'teacher' });
  stop();
  assert.deepEqual(output.join('').trim().split('\n'), [
    'teacher: running',
    'teacher 10/100  cached 4  failed 1  $0.5000  ETA 9s',
    'teacher 30/100  cached 4  failed 1  $1.0000  ETA 7s',
    'teacher: done',
  ]);
});

test('live mode redraws its block in place and shows the best validation accuracy', () => {
  const time = 0;
  const events = new LocalEventStream(() => time);
  const output: string[] = [];
  const stop = attachProgressDisplay(events, {
    mode: 'live',
    write: (text) => output.push(text),
    intervalMilliseconds: 0,
    now: () => time,
  });
  events.emit('stage.start', { stage: 'trainer' });
  events.emit('train.evaluation', { split: 'validation', accuracy: 0.41 });
  events.emit('train.evaluation', { split: 'validation', accuracy: 0.38 });
  events.emit('train.progress', { step: 50, total_steps: 200, loss: 1.23456, tokens_per_second: 3456.7, elapsed_ms: 10_000 });
  stop();
  const last = output.at(-1)!;
  assert.ok(last.startsWith('\x1b[2F\x1b[J'), 'moves up over the two lines drawn before and clears them');
  assert.match(last, /trainer: running\ntrain step 50\/200 {2}loss 1\.2346 {2}tok\/s 3457 {2}ETA 30s {2}best val 41\.0%\n$/);
});

test('json mode writes every event as one line', () => {
  const events = new LocalEventStream(() => 7);
  const output: string[] = [];
  const stop = attachProgressDisplay(events, { mode: 'json', write: (text) => output.push(text) });
  events.emit('teacher.retry', { attempt: 2 });
  stop();
  assert.deepEqual(
    output.map((line): unknown => JSON.parse(line)),
    [{ attempt: 2, type: 'teacher.retry', time: 7 }],
  );
});

test('the teacher line shows a bar when live, budget skips, and a resume notice once', () => {
  const events = new LocalEventStream(() => 0);
  const output: string[] = [];
  const stop = attachProgressDisplay(events, { mode: 'live', write: (text) => output.push(text), intervalMilliseconds: 0, now: () => 0 });
  events.emit('teacher.start', { total: 100, resumed: 40 });
  events.emit('teacher.progress', {
    done: 50,
    total: 100,
    cached: 40,
    failed: 0,
    skipped: 5,
    dollars: 0.0123,
    done_this_run: 10,
    elapsed_ms: 10_000,
  });
  stop();
  const screen = output.join('');
  assert.equal(screen.split('teacher: resuming, 40 of 100 examples already done').length, 2, 'the notice is printed exactly once');
  assert.match(
    output.at(-1)!,
    /\[#{12}\.{12}\] {2}50% teacher 50\/100 {2}cached 40 {2}failed 0 {2}over budget 5 {2}\$0\.0123 {2}ETA 45s\n$/,
  );
});

test('the first progress event is drawn at once', () => {
  const events = new LocalEventStream(() => 0);
  const output: string[] = [];
  attachProgressDisplay(events, { mode: 'plain', write: (text) => output.push(text), intervalMilliseconds: 60_000, now: () => 0 });
  events.emit('train.progress', { step: 1, total_steps: 10, loss: 2, elapsed_ms: 1000 });
  assert.deepEqual(output, ['train step 1/10  loss 2.0000  tok/s ?  ETA 9s  best val -\n']);
});
