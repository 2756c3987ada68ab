import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainProgress } from '../../../support/plain-progress.js';

test('the progress display shows one line per live batch (provider state, succeeded/failed/total) and the count of live and collected batches', () => {
  const { events, output, stop, setTime } = plainProgress(0);
  events.emit('stage.start', { stage: 'teacher' });
  events.emit('teacher.batch_submitted', { batch: 'batch_1', label: 'distill-1', requests: 4 });
  events.emit('teacher.batch_submitted', { batch: 'batch_2', label: 'distill-2', requests: 2 });
  setTime(10);
  events.emit('teacher.batch_status', {
    batch: 'batch_1',
    state: 'running',
    provider_state: 'in_progress',
    total: 4,
    succeeded: 3,
    failed: 1,
  });
  events.emit('teacher.batch_status', { batch: 'batch_1', state: 'ended', provider_state: 'completed', total: 4, succeeded: 3, failed: 1 });
  events.emit('teacher.batch_collected', { batch: 'batch_1', state: 'ended', answered: 3, failed: 1, resubmitted: 0 });
  events.emit('teacher.batch_stopped', { batches: 1, requests: 2 });
  stop();
  const lines = output.join('').trim().split('\n');
  assert.deepEqual(lines, [
    'teacher: running',
    'batches 1 live  0 collected',
    '  batch batch_1  submitted  0 succeeded  0 failed  of 4',
    'batches 2 live  0 collected',
    '  batch batch_2  submitted  0 succeeded  0 failed  of 2',
    '  batch batch_1  in_progress  3 succeeded  1 failed  of 4',
    'batches 1 live  1 collected',
    'teacher: stopped with 1 batches (2 requests) still at the provider; run the same command again to collect them (nothing is submitted twice)',
  ]);
});
