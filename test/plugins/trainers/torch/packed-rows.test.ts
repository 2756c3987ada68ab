import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { repositoryRoot, testPath } from '../../../support/paths.js';

type Losses = [number, number, number];
interface PassComparison {
  losses_packed: Losses;
  losses_unpacked: Losses;
  gradient_size: number;
  gradient_difference: number;
}
interface PackedResults {
  pairs: number;
  rows: number;
  loss_size: number;
  packed_vs_alone: number;
  open_masks_vs_alone: number;
  [setting: string]: number | PassComparison;
}

const workerFolder = path.join(repositoryRoot, 'plugins', 'trainers', 'torch', 'worker');

test('packed rows (option `packing`) give each example the losses and the batch the gradient of unpacked rows', () => {
  const script = testPath('plugins', 'trainers', 'torch', 'fixtures', 'packed-losses.py');
  const output = execFileSync(defaultVirtualenvPython, [script, workerFolder], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const results = JSON.parse(output) as PackedResults;
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
    const comparison = results[setting] as PassComparison;
    for (const [index, value] of comparison.losses_packed.entries()) {
      const unpacked = comparison.losses_unpacked[index]!;
      assert.ok(Math.abs(value - unpacked) <= 1e-5 * Math.abs(unpacked), `${setting}: loss ${index} ${value} packed vs ${unpacked}`);
    }
    assert.ok(
      comparison.gradient_difference <= 1e-5 * comparison.gradient_size,
      `${setting}: the gradient packed is the gradient unpacked (differs by ${comparison.gradient_difference})`,
    );
  }
});
