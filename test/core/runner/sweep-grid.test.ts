import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineConfig } from '../../../core/config/pipeline-config.js';
import { UserError } from '../../../core/errors/user-error.js';
import type { Sampler } from '../../../core/plugins/kinds/sampler.js';
import type { AnyPluginDescriptor, PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
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

/** A sampler of another id that declares the rationale-rate axis, as an external plugin could. */
const otherRationaleSampler: PluginDescriptor<{ keep: number }, Sampler> = {
  id: 'keep-rationales',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Keeps a share of the rationales.',
  optionsSchema: { type: 'object', additionalProperties: false, properties: { keep: { type: 'number' } } },
  sweepAxes: [{ name: 'rationale_rate', option: 'keep', unsetValue: 1 }],
  create: () => ({ apply: (items) => [...items] }),
};

/** The built-in registry with some plugins left out and others added. */
function registryWith(leftOut: readonly string[], added: readonly AnyPluginDescriptor[] = []): PluginRegistry {
  const builtins = builtinRegistry();
  return new PluginRegistry([...builtins.list().filter((descriptor) => !leftOut.includes(descriptor.id)), ...added], builtins.defaults);
}

test('the sweep finds each axis through the registry: the plugin that declares it is the one it writes', () => {
  const registry = registryWith(['rationale-rate'], [otherRationaleSampler]);
  const config = { ...base, samplers: [{ use: 'keep-rationales', options: { keep: 0.25 } }] } as unknown as PipelineConfig;
  const [variant] = sweepVariants({ ...config, sweep: { seed: [5] } }, registry);
  // The pipeline's own value of the axis comes from the owner's option; its step is written anew.
  assert.equal(variant!.rationaleRate, 0.25);
  assert.deepEqual(variant!.config.samplers, [{ use: 'keep-rationales', options: { keep: 0.25 } }]);
});

test('a sweep with an axis no plugin declares, or that two plugins declare, is a user error', () => {
  const swept = { ...base, sweep: { seed: [1] } } as PipelineConfig;
  assert.throws(
    () => sweepVariants(swept, registryWith(['constant'])),
    (error: unknown) =>
      error instanceof UserError && /needs a sampler or loss-weight plugin that declares the alpha axis/.test(error.problems[0]!.message),
  );
  assert.throws(
    () => sweepVariants(swept, registryWith([], [otherRationaleSampler])),
    (error: unknown) =>
      error instanceof UserError &&
      error.problems[0]!.message ===
        'the sweep axis rationale_rate is declared by 2 plugins: sampler/keep-rationales, sampler/rationale-rate',
  );
  // Without a sweep block nothing is asked of the registry.
  assert.deepEqual(sweepVariants(base, registryWith(['constant', 'rationale-rate', 'data-fraction'])), []);
});

test('a sweep over the min-confidence threshold keeps the confidence loss and the sampler’s other options', () => {
  const config = {
    ...base,
    samplers: [
      { use: 'label-source', options: { source: 'teacher' } },
      { use: 'min-confidence', options: { threshold: 0.6, unknown: 'drop' } },
    ],
    loss: { use: 'confidence', options: { alpha: 0.7, floor: 0.2 } },
  } as unknown as PipelineConfig;
  const variants = sweepVariants({ ...config, sweep: { min_confidence: [0, 0.8], seed: [1, 2] } }, builtinRegistry());
  assert.deepEqual(
    variants.map((variant) => `${variant.mode} a=${variant.alpha} c=${variant.minConfidence} s=${variant.seed}`),
    ['step-by-step a=null c=0 s=1', 'step-by-step a=null c=0 s=2', 'step-by-step a=null c=0.8 s=1', 'step-by-step a=null c=0.8 s=2'],
  );
  for (const variant of variants) {
    // The pipeline's loss, not the α axis owner's: the weights by confidence stay in every point.
    assert.deepEqual(variant.config.loss, { use: 'confidence', options: { alpha: 0.7, floor: 0.2 } });
    assert.deepEqual(variant.config.samplers, [
      { use: 'label-source', options: { source: 'teacher' } },
      { use: 'rationale-rate', options: { rate: 1 } },
      // Threshold 0 is written too: with `unknown: drop` it still drops examples without a confidence.
      { use: 'min-confidence', options: { threshold: variant.minConfidence, unknown: 'drop' } },
    ]);
  }
  // Without other options, threshold 0 changes nothing and is left out, as a data fraction of 1 is.
  const plain = { ...base, sweep: { min_confidence: [0, 0.6] } } as PipelineConfig;
  assert.deepEqual(
    sweepVariants(plain, builtinRegistry()).map((variant) => variant.config.samplers.map((step) => step.use)),
    [
      ['label-source', 'rationale-rate'],
      ['label-source', 'rationale-rate', 'min-confidence'],
    ],
  );
  // A pipeline without the axis sweeps as before: no min-confidence step, threshold 0.
  assert.ok(sweepVariants({ ...base, sweep: { seed: [1] } }, builtinRegistry()).every((variant) => variant.minConfidence === 0));
});

test('a sweep that lists α over a loss weight that does not own it is a user error; standard mode trains α = 1', () => {
  const config = { ...base, loss: { use: 'confidence', options: {} } } as unknown as PipelineConfig;
  assert.throws(
    () => sweepVariants({ ...config, sweep: { alpha: [0.3] } }, builtinRegistry()),
    (error: unknown) =>
      error instanceof UserError &&
      error.problems[0]!.pointer === '/sweep/alpha' &&
      /the pipeline's loss is confidence: every point would train the constant loss instead/.test(error.problems[0]!.message),
  );
  const [standard] = sweepVariants({ ...config, sweep: { mode: ['standard'] } }, builtinRegistry());
  assert.deepEqual(standard!.config.loss, { use: 'constant', options: { alpha: 1 } });
});
