import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clopperPearsonLowerBound, regularizedIncompleteBeta } from '../../../core/calibration/clopper-pearson.js';

/** P(X ≥ k) for X ~ Binomial(n, p), summed term by term in log space: the definition the bound inverts. */
function binomialUpperTail(successes: number, trials: number, probability: number): number {
  let logChoose = 0; // log C(n, 0)
  let total = 0;
  for (let count = 0; count <= trials; count++) {
    if (count > 0) logChoose += Math.log(trials - count + 1) - Math.log(count);
    if (count >= successes) total += Math.exp(logChoose + count * Math.log(probability) + (trials - count) * Math.log1p(-probability));
  }
  return total;
}

test('the bound is where seeing that many successes or more has probability 1 - level (checked against the binomial sum)', () => {
  for (const [successes, trials] of [
    [1, 1],
    [9, 10],
    [50, 100],
    [95, 100],
    [570, 600],
    [1, 30],
    [1990, 2000],
  ] as const) {
    for (const level of [0.9, 0.95, 0.99]) {
      const bound = clopperPearsonLowerBound(successes, trials, level);
      assert.ok(bound > 0 && bound <= successes / trials, `${successes}/${trials}: ${bound}`);
      if (successes === trials) assert.ok(Math.abs(bound - Math.pow(1 - level, 1 / trials)) < 1e-12, 'the closed form');
      else assert.ok(Math.abs(binomialUpperTail(successes, trials, bound) - (1 - level)) < 1e-6, `${successes}/${trials} at ${level}`);
    }
  }
});

test('known values: 9 of 10 at 95% is 0.6058, 10 of 10 is 0.05^(1/10), no success is 0', () => {
  assert.ok(Math.abs(clopperPearsonLowerBound(9, 10, 0.95) - 0.60584) < 1e-4);
  assert.ok(Math.abs(clopperPearsonLowerBound(10, 10, 0.95) - 0.74113) < 1e-4);
  assert.equal(clopperPearsonLowerBound(0, 10, 0.95), 0);
});

test('more evidence tightens the bound; a higher level loosens it', () => {
  assert.ok(clopperPearsonLowerBound(99, 100, 0.95) < clopperPearsonLowerBound(990, 1000, 0.95));
  assert.ok(clopperPearsonLowerBound(99, 100, 0.99) < clopperPearsonLowerBound(99, 100, 0.95));
});

test('the incomplete beta function matches closed forms', () => {
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
  assert.ok(Math.abs(regularizedIncompleteBeta(0.3, 1, 1) - 0.3) < 1e-12);
  assert.ok(Math.abs(regularizedIncompleteBeta(0.7, 5, 1) - 0.7 ** 5) < 1e-12);
  assert.ok(Math.abs(regularizedIncompleteBeta(0.2, 1, 7) - (1 - 0.8 ** 7)) < 1e-12);
});

test('nonsense counts and levels are refused', () => {
  assert.throws(() => clopperPearsonLowerBound(5, 4, 0.95), RangeError);
  assert.throws(() => clopperPearsonLowerBound(1, 0, 0.95), RangeError);
  assert.throws(() => clopperPearsonLowerBound(1.5, 4, 0.95), RangeError);
  assert.throws(() => clopperPearsonLowerBound(1, 4, 1), RangeError);
});
