import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWorkerFixture } from './worker-fixture.js';

interface ParallelPassResults {
  same_gradients_without_dropout: boolean;
  largest_difference_without_dropout: number;
  gradient_size: number;
  repeats_with_dropout: boolean;
  dropout_differs_from_in_turn: boolean;
  threads: { helper: number; own: number; after: number };
  failure: { raised: string | null; helper_finished: boolean };
}

test('`parallel_task_passes`: the same gradients as the passes in turn, a seeded step that repeats itself with dropout, threads shared and given back, a failure that waits for the other pass', () => {
  const results = runWorkerFixture('parallel-task-passes.py', { oneThread: true }) as ParallelPassResults;
  assert.ok(results.gradient_size > 0, 'the step has a gradient at all');
  // Each gradient is the sum of the two passes' in either order: a + b and b + a are the same float.
  assert.ok(
    results.same_gradients_without_dropout,
    `gradients differ from the passes in turn by ${results.largest_difference_without_dropout}`,
  );
  assert.ok(results.repeats_with_dropout, 'the same gradients, losses and generator state from one seed, five times');
  assert.ok(results.dropout_differs_from_in_turn, "the helper's pass draws masks of its own");
  // 3 threads: one for the helper, two here, all three again after the step.
  assert.deepEqual(results.threads, { helper: 1, own: 2, after: 3 });
  assert.deepEqual(results.failure, { raised: 'this pass failed', helper_finished: true });
});
