import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWorkerFixture } from './worker-fixture.js';

type Losses = [number, number, number];
interface PassComparison {
  losses_packed: Losses;
  losses_unpacked: Losses;
  gradient_size: number;
  gradient_difference: number;
}
type Widths = Record<string, number>;
interface RoundedWidths {
  multiple: number;
  rounded: Widths;
  unrounded: Widths;
}
interface PackedResults {
  pairs: number;
  rows: number;
  loss_size: number;
  packed_vs_alone: number;
  open_masks_vs_alone: number;
  [setting: string]: number | PassComparison | RoundedWidths;
}

/** The fixture's comparisons, run once for the tests below. */
function packedResults(): PackedResults {
  return runWorkerFixture('packed-losses.py', { oneThread: true }) as PackedResults;
}

let cachedResults: PackedResults | undefined;
const fixtureResults = () => (cachedResults ??= packedResults());

function assertSameLossesAndGradient(setting: string, comparison: PassComparison): void {
  for (const [index, value] of comparison.losses_packed.entries()) {
    const unpacked = comparison.losses_unpacked[index]!;
    assert.ok(Math.abs(value - unpacked) <= 1e-5 * Math.abs(unpacked), `${setting}: loss ${index} ${value} against ${unpacked} unpacked`);
  }
  assert.ok(
    comparison.gradient_difference <= 1e-5 * comparison.gradient_size,
    `${setting}: the gradient is the gradient of unpacked rows (differs by ${comparison.gradient_difference})`,
  );
}

test('packed rows (option `packing`) give each example the losses and the batch the gradient of unpacked rows', () => {
  const results = fixtureResults();
  assert.ok(results.rows < results.pairs, `the examples were packed (${results.pairs} examples in ${results.rows} rows)`);
  // Float rounding only: the packed rows sum over wider, masked rows in another order.
  assert.ok(
    results.packed_vs_alone <= 1e-5 * results.loss_size,
    `each packed example's token losses are its losses alone (differ by ${results.packed_vs_alone})`,
  );
  assert.ok(
    results.open_masks_vs_alone > 1e-2 * results.loss_size,
    `without the block-diagonal masks the examples see each other and the losses change (the comparison can fail)`,
  );
  for (const setting of ['joint unweighted', 'joint weighted', 'separate unweighted', 'separate weighted']) {
    assertSameLossesAndGradient(setting, results[setting] as PassComparison);
  }
});

function assertRoundedUp(widths: RoundedWidths): void {
  for (const [name, width] of Object.entries(widths.rounded)) {
    const unrounded = widths.unrounded[name]!;
    assert.equal(width, Math.ceil(unrounded / widths.multiple) * widths.multiple, `${name}: ${unrounded} rounded up to ${width}`);
  }
  assert.ok(
    Object.entries(widths.rounded).some(([name, width]) => width > widths.unrounded[name]!),
    'some width was not a multiple already (the check can fail)',
  );
}

test('pad_to_multiple_of rounds the width of packed and unpacked rows up and changes no loss or gradient', () => {
  const results = fixtureResults();
  assertRoundedUp(results['rounded widths'] as RoundedWidths);
  assertSameLossesAndGradient('rounded packed', results['rounded packed'] as PassComparison);
  assertSameLossesAndGradient('rounded unpacked', results['rounded unpacked'] as PassComparison);
});

test('pad_to_multiple_of rounds the rows of a causal-LM student up too and changes no loss or gradient', () => {
  const results = fixtureResults();
  assertRoundedUp(results['rounded causal-lm widths'] as RoundedWidths);
  assertSameLossesAndGradient('rounded causal-lm', results['rounded causal-lm'] as PassComparison);
});
