import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SampleItem, Sampler } from '../../../core/plugins/kinds/sampler.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { sampleItemsFromRecords } from '../../../core/training/training-data.js';
import { majorityRationalesSampler } from '../../../plugins/samplers/majority-rationales/majority-rationales-sampler.js';
import { minConfidenceSampler } from '../../../plugins/samplers/min-confidence/min-confidence-sampler.js';
import { sharedDataMissing } from '../../support/paths.js';
import { selfConsistencyRecords } from '../../core/training/self-consistency-records.js';

const dependencies = {} as PluginDependencies;
const skip = sharedDataMissing();

/** Sample items from 60 self-consistency records over real e-SNLI answers. */
async function items(): Promise<SampleItem[]> {
  return sampleItemsFromRecords(await selfConsistencyRecords(60), 'neutral');
}

async function sampler(
  descriptor: { create(options: never, dependencies: PluginDependencies): Sampler | Promise<Sampler> },
  options: object,
) {
  return descriptor.create(options as never, dependencies);
}

test('min-confidence drops examples below the threshold, keeps unknown confidence by default, keeps order', { skip }, async () => {
  const all = await items();
  const unknown = all.filter((item) => item.confidence === null);
  assert.ok(unknown.length >= 8, `${unknown.length} items without a confidence`);
  const kept = (await sampler(minConfidenceSampler, { threshold: 0.6 })).apply(all, { seed: 1 });
  assert.deepEqual(
    kept.map((item) => item.id),
    all.filter((item) => item.confidence === null || item.confidence! >= 0.6).map((item) => item.id),
  );
  assert.ok(kept.length < all.length && kept.some((item) => item.confidence === 0.6), 'the threshold itself is kept');
  const known = (await sampler(minConfidenceSampler, { threshold: 0.6, unknown: 'drop' })).apply(all, { seed: 1 });
  assert.deepEqual(
    known.map((item) => item.id),
    kept.filter((item) => item.confidence !== null).map((item) => item.id),
  );
  // Threshold 0 drops only unknowns, and only when asked; a seed changes nothing.
  assert.deepEqual((await sampler(minConfidenceSampler, { threshold: 0 })).apply(all, { seed: 9 }), all);
  assert.equal(
    (await sampler(minConfidenceSampler, { threshold: 0, unknown: 'drop' })).apply(all, { seed: 1 }).length,
    all.length - unknown.length,
  );
  assert.deepEqual(
    kept[0],
    all.find((item) => item.id === kept[0]!.id),
    'items pass unchanged',
  );
});

test('majority-rationales: longest trains the longest agreeing rationale, all one item per agreeing rationale', { skip }, async () => {
  const all = await items();
  const longest = (await sampler(majorityRationalesSampler, {})).apply(all, { seed: 1 });
  assert.equal(longest.length, all.length);
  for (const [index, item] of longest.entries()) {
    const source = all[index]!;
    if (!source.agreeingRationales) {
      assert.equal(item, source, 'an item of a single answer passes as it is');
      continue;
    }
    assert.equal(item.rationale, source.agreeingRationales[0] ?? null);
    const lengths = source.agreeingRationales.map((rationale) => rationale.length);
    assert.equal(item.rationale!.length, Math.max(...lengths));
    assert.equal(item.label, source.label);
  }

  const every = (await sampler(majorityRationalesSampler, { keep: 'all' })).apply(all, { seed: 1 });
  const expectedCount = all.reduce((sum, item) => sum + (item.agreeingRationales ? Math.max(1, item.agreeingRationales.length) : 1), 0);
  assert.equal(every.length, expectedCount);
  assert.ok(every.length > all.length);
  for (const item of all.filter((each) => each.agreeingRationales)) {
    const copies = every.filter((each) => each.id === item.id);
    assert.deepEqual(
      copies.map((copy) => copy.rationale),
      item.agreeingRationales!,
    );
    assert.ok(copies.every((copy) => copy.input === item.input && copy.label === item.label && copy.confidence === item.confidence));
  }
  // An example with no agreeing rationale keeps its label and trains toward an empty rationale.
  const bare = { ...all.find((item) => item.agreeingRationales)!, agreeingRationales: [] };
  for (const keep of ['longest', 'all']) {
    assert.deepEqual((await sampler(majorityRationalesSampler, { keep })).apply([bare], { seed: 1 }), [{ ...bare, rationale: null }]);
  }
  assert.deepEqual((await sampler(majorityRationalesSampler, { keep: 'all' })).apply(all, { seed: 2 }), every, 'deterministic');
});
