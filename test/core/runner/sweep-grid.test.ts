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
