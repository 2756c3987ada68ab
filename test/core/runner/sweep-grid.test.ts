import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineConfig } from '../../../core/config/pipeline-config.js';
import { sweepVariants } from '../../../core/runner/sweep-grid.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';

const base = {
  seed: 7,
  samplers: [
    { use: 'label-source', options: { source: 'teacher' } },
    { use: 'rationale-rate', options: { rate: 1 } },
  ],
  loss: { use: 'constant', options: { alpha: 0.5 } },
} as unknown as PipelineConfig;

test('no sweep block, no variants', () => {
  assert.deepEqual(sweepVariants(base, builtinRegistry()), []);
});

test('every combination of the axes; standard mode ignores rationale rate and alpha', () => {
  const variants = sweepVariants(
    { ...base, sweep: { mode: ['standard', 'step-by-step'], data_fraction: [0.5, 1], rationale_rate: [0.33, 1], seed: [1, 2] } },
    builtinRegistry(),
  );
  const points = variants.map(
    (variant) => `${variant.mode} f=${variant.dataFraction} r=${variant.rationaleRate} a=${variant.alpha} s=${variant.seed}`,
  );
  assert.deepEqual(points, [
    'standard f=0.5 r=0 a=1 s=1',
    'standard f=0.5 r=0 a=1 s=2',
    'standard f=1 r=0 a=1 s=1',
    'standard f=1 r=0 a=1 s=2',
    'step-by-step f=0.5 r=0.33 a=0.5 s=1',
    'step-by-step f=0.5 r=0.33 a=0.5 s=2',
    'step-by-step f=0.5 r=1 a=0.5 s=1',
    'step-by-step f=0.5 r=1 a=0.5 s=2',
    'step-by-step f=1 r=0.33 a=0.5 s=1',
    'step-by-step f=1 r=0.33 a=0.5 s=2',
    'step-by-step f=1 r=1 a=0.5 s=1',
    'step-by-step f=1 r=1 a=0.5 s=2',
  ]);
});

test('a variant sets the samplers, the loss and the seed, keeping the other samplers first', () => {
  const [variant] = sweepVariants({ ...base, sweep: { data_fraction: [0.25], alpha: [0.8], seed: [3] } }, builtinRegistry());
  assert.deepEqual(variant!.config.samplers, [
    { use: 'label-source', options: { source: 'teacher' } },
    { use: 'data-fraction', options: { fraction: 0.25 } },
    { use: 'rationale-rate', options: { rate: 1 } },
  ]);
  assert.deepEqual(variant!.config.loss, { use: 'constant', options: { alpha: 0.8 } });
  assert.equal(variant!.config.seed, 3);
  assert.equal(variant!.config.sweep, undefined);
});
