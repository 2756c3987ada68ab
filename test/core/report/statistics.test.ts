import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exponentialMovingAverage } from '../../../core/report/statistics.js';

test('the debiased EMA starts at the first value, follows a step slowly, and weight 0 changes nothing', () => {
  const smoothed = exponentialMovingAverage([4, 4, 0, 0, 0], 0.5);
  assert.equal(smoothed[0], 4, 'not pulled towards 0 at the start');
  assert.equal(smoothed[1], 4);
  // Averages before debiasing: 2, 3, then 0.5·3 + 0.5·0 = 1.5, divided by 1 − 0.5³.
  assert.equal(smoothed[2], 1.5 / 0.875);
  const [, , third, fourth, fifth] = smoothed as [number, number, number, number, number];
  assert.ok(fourth < third && fifth < fourth && fifth > 0);
  assert.deepEqual(exponentialMovingAverage([3, 1, 2], 0), [3, 1, 2]);
});
