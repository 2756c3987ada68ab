import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { attachProgressDisplay } from '../../../core/progress/progress-display.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { repositoryRoot } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { plainProgress } from '../../support/plain-progress.js';
import { VirtualTerminal } from '../../support/virtual-terminal.js';

/** The reason to skip the real-terminal test, or false when tmux is installed. */
function tmuxMissing(): string | false {
  return spawnSync('tmux', ['-V']).status === 0 ? false : 'tmux not installed; the real-terminal display test is skipped';
}

test('plain mode prints stage changes at once and throttles progress lines', () => {
  const { events, output, stop, setTime } = plainProgress(1000);
  events.emit('stage.start', { stage: 'teacher' });
  events.emit('teacher.progress', { done: 10, total: 100, cached: 4, failed: 1, dollars: 0.5, done_this_run: 10, elapsed_ms: 1000 });
  setTime(200);
  events.emit('teacher.progress', { done: 20, total: 100, cached: 4, failed: 1, dollars: 0.75, done_this_run: 20, elapsed_ms: 2000 });
  setTime(1500);
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

test('live mode at 80 columns cuts every line to the width, so that redraws leave no copy behind', () => {
  let time = 0;
  const events = new LocalEventStream(() => time);
  const terminal = new VirtualTerminal(80);
  const stop = attachProgressDisplay(events, { mode: 'live', stream: terminal, intervalMilliseconds: 0, now: () => time });
  for (const stage of ['dataset', 'teacher', 'trainer', 'export']) {
    events.emit('stage.start', { stage });
    if (stage === 'teacher') {
      for (let done = 0; done <= 240; done += 40) {
        events.emit('teacher.progress', {
          done,
          total: 240,
          cached: done,
          failed: 0,
          dollars: 0,
          done_this_run: done,
          elapsed_ms: 1000 + done,
        });
      }
    }
    if (stage === 'trainer') {
      events.emit('train.evaluation', { split: 'validation', accuracy: 0.41 });
      for (let step = 1; step <= 200; step += 7) {
        time += 10;
        events.emit('train.progress', { step, total_steps: 200, loss: 1.23456, tokens_per_second: 34567.8, elapsed_ms: step * 100 });
      }
    }
    events.emit('stage.done', { stage });
  }
  events.emit('stage.start', { stage: 'evaluate' });
  stop();
  const lines = terminal.lines();
  assert.equal(lines.length, 3, `the stage, teacher and training lines, each on one row, and nothing else:\n${lines.join('\n')}`);
  const stageRows = lines.filter((line) => line.includes('dataset: done') || line.includes('evaluate: running'));
  assert.equal(stageRows.length, 1, `one stage line on the screen, no copies left by redraws:\n${lines.join('\n')}`);
  assert.match(stageRows[0]!, /evaluate: running$/, 'the running stage stays in sight when the stage line is too long');
  assert.equal(lines.filter((line) => line.includes('train step')).length, 1, 'one training line');
  assert.match(
    lines.find((line) => line.includes('train step'))!,
    /^ ?\d+% train step 197\/200 {2}loss 1\.2346 {2}tok\/s 34568 {2}ETA 0s {2}best val 41\.0%$/,
    'the trainer shows its progress in front, within the width, with nothing cut',
  );
  assert.match(
    lines.find((line) => line.includes('teacher 240'))!,
    /^\[#+\] 100% teacher 240\/240 {2}cached 240 {2}failed 0 {2}\$0\.0000 {2}ETA 0s$/,
    'the teacher keeps a bar, as wide as the width leaves room for, and all its numbers',
  );
});

test(
  'the live display in a real 80-column terminal (tmux) leaves exactly one block',
  { skip: tmuxMissing(), timeout: 60_000 },
  async (context) => {
    const directory = temporaryDirectory(context);
    const script = path.join(directory, 'display.mjs');
    const done = path.join(directory, 'done');
    const imports = (file: string) => JSON.stringify(pathToFileURL(path.join(repositoryRoot, 'dist', 'core', file)).href);
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { LocalEventStream } from ${imports('services/event-stream.js')};
import { attachProgressDisplay } from ${imports('progress/progress-display.js')};
const events = new LocalEventStream();
const stop = attachProgressDisplay(events, { mode: 'live', intervalMilliseconds: 0 });
for (const stage of ['dataset', 'teacher', 'trainer', 'export']) {
  events.emit('stage.start', { stage });
  events.emit('stage.done', { stage });
}
events.emit('stage.start', { stage: 'evaluate' });
events.emit('sweep.point', { index: 1, total: 2, mode: 'standard', data_fraction: 1, rationale_rate: 0, alpha: 1, seed: 1 });
for (let step = 1; step <= 60; step++) {
  events.emit('train.progress', { step, total_steps: 60, loss: 1 / step, tokens_per_second: 12345.6, elapsed_ms: step * 50 });
  await delay(5);
}
stop();
writeFileSync(${JSON.stringify(done)}, '');
`,
    );
    const socket = `distill-test-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', 'display', `${process.execPath} ${script}; sleep 60`);
    context.after(() => tmux('kill-server'));
    const deadline = Date.now() + 30_000;
    while (!existsSync(done) && Date.now() < deadline) await delay(100);
    assert.ok(existsSync(done), 'the display script finished');
    const lines = tmux('capture-pane', '-p', '-t', 'display', '-S', '-200')
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line !== '');
    assert.equal(lines.filter((line) => line.includes('evaluate: running')).length, 1, `one stage line:\n${lines.join('\n')}`);
    assert.equal(lines.filter((line) => line.includes('train step')).length, 1, `one training line:\n${lines.join('\n')}`);
    assert.ok(
      lines.some((line) => line.includes('train step 60/60')),
      'the last step is shown',
    );
    assert.equal(lines.filter((line) => line.startsWith('sweep 1/2')).length, 1, 'the notice is printed once, above the block');
  },
);

test('plain output: the last train step comes before the stage changes after it, and a sweep point starts without the last best', () => {
  const { events, output, stop } = plainProgress(60_000);
  events.emit('stage.start', { stage: 'trainer' });
  events.emit('train.evaluation', { split: 'validation', accuracy: 0.5 });
  for (let step = 1; step <= 16; step++) events.emit('train.progress', { step, total_steps: 16, loss: 2, elapsed_ms: step * 1000 });
  events.emit('stage.done', { stage: 'trainer' });
  events.emit('stage.start', { stage: 'evaluate' });
  events.emit('stage.done', { stage: 'evaluate' });
  events.emit('sweep.point', { index: 1, total: 2, mode: 'standard', data_fraction: 1, rationale_rate: 0, alpha: 1, seed: 1 });
  events.emit('stage.start', { stage: 'trainer' });
  events.emit('train.progress', { step: 1, total_steps: 16, loss: 3, elapsed_ms: 1000 });
  stop();
  assert.deepEqual(output.join('').trim().split('\n'), [
    'trainer: running',
    'train step 1/16  loss 2.0000  tok/s ?  ETA 15s  best val 50.0%',
    'train step 16/16  loss 2.0000  tok/s ?  ETA 0s  best val 50.0%',
    'trainer: done',
    'evaluate: running',
    'evaluate: done',
    'sweep 1/2: standard, data 1, rationale rate 0, alpha 1, seed 1',
    'trainer: running',
    'train step 1/16  loss 3.0000  tok/s ?  ETA 15s  best val -',
  ]);
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
  const terminal = new VirtualTerminal(120);
  const stop = attachProgressDisplay(events, { mode: 'live', stream: terminal, intervalMilliseconds: 0, now: () => 0 });
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
  assert.deepEqual(terminal.lines(), [
    'teacher: resuming, 40 of 100 examples already done',
    '[############............]  50% teacher 50/100  cached 40  failed 0  over budget 5  $0.0123  ETA 45s',
  ]);
});

test('the first progress event is drawn at once', () => {
  const events = new LocalEventStream(() => 0);
  const output: string[] = [];
  attachProgressDisplay(events, { mode: 'plain', write: (text) => output.push(text), intervalMilliseconds: 60_000, now: () => 0 });
  events.emit('train.progress', { step: 1, total_steps: 10, loss: 2, elapsed_ms: 1000 });
  assert.deepEqual(output, ['train step 1/10  loss 2.0000  tok/s ?  ETA 9s  best val -\n']);
});
