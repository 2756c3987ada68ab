import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWorkerFixture } from './worker-fixture.js';

interface WeightCastResults {
  plain_casts: [number, number];
  kept_casts: [number, number];
  gradient_size: number;
  gradient_difference: number;
  same_weights_after: boolean;
}

test('one_cast_per_step: autocast casts each weight once a step instead of once a pass, the same gradient, and no copy outlives the step', () => {
  const results = runWorkerFixture('weight-casts.py', { oneThread: true }) as WeightCastResults;
  const [plainFirst, plainSecond] = results.plain_casts;
  const [keptFirst, keptSecond] = results.kept_casts;
  assert.ok(plainFirst > 0, 'autocast casts weights at all');
  // Two passes a step: every weight cast in each pass without the context, once with it.
  assert.equal(plainFirst, 2 * keptFirst);
  // The copies go when the step's context exits: the next step, after the optimizer changed the weights, casts again.
  assert.equal(keptSecond, keptFirst);
  assert.equal(plainSecond, plainFirst);
  // Float rounding only: the same products, their gradients added in another order.
  assert.ok(results.gradient_difference <= 1e-6 * results.gradient_size, `gradients differ by ${results.gradient_difference}`);
  assert.ok(results.same_weights_after, 'the same weights after two optimizer steps');
});
