import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SampleItem, Sampler } from '../../../core/plugins/kinds/sampler.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { agreementFilterSampler } from '../../../plugins/samplers/agreement-filter/agreement-filter-sampler.js';
import { dataFractionSampler } from '../../../plugins/samplers/data-fraction/data-fraction-sampler.js';
import { labelSourceSampler } from '../../../plugins/samplers/label-source/label-source-sampler.js';
import { rationaleRateSampler } from '../../../plugins/samplers/rationale-rate/rationale-rate-sampler.js';

const dependencies = {} as PluginDependencies;
const labels = ['entailment', 'neutral', 'contradiction'];

/** 2,000 items; every 4th teacher label disagrees with gold. */
function items(count = 2000): SampleItem[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `esnli/valid/${index}`,
    input: `premise ${index} </s> hypothesis ${index}`,
    goldLabel: labels[index % 3]!,
    teacherLabel: index % 4 === 0 ? labels[(index + 1) % 3]! : labels[index % 3]!,
    label: index % 4 === 0 ? labels[(index + 1) % 3]! : labels[index % 3]!,
    rationale: index % 10 === 9 ? null : `because of reason number ${index}`,
  }));
}

async function sampler(
  descriptor: { create(options: never, dependencies: PluginDependencies): Sampler | Promise<Sampler> },
  options: object,
): Promise<Sampler> {
  return descriptor.create(options as never, dependencies);
}

test('data-fraction keeps round(f·n) examples, the same ones for the same seed, nested across fractions, in order', async () => {
  const all = items();
  const half = (await sampler(dataFractionSampler, { fraction: 0.5 })).apply(all, { seed: 7 });
  const eighth = (await sampler(dataFractionSampler, { fraction: 0.125 })).apply(all, { seed: 7 });
  assert.equal(half.length, 1000);
  assert.equal(eighth.length, 250);
  assert.deepEqual((await sampler(dataFractionSampler, { fraction: 0.5 })).apply(all, { seed: 7 }), half);
  const halfIds = new Set(half.map((item) => item.id));
  assert.ok(
    eighth.every((item) => halfIds.has(item.id)),
    '12.5% is a subset of 50% for one seed',
  );
  const otherSeed = (await sampler(dataFractionSampler, { fraction: 0.5 })).apply(all, { seed: 8 });
  const overlap = otherSeed.filter((item) => halfIds.has(item.id)).length;
  assert.ok(overlap > 400 && overlap < 600, `another seed picks another half (overlap ${overlap}, about 500 expected)`);
  const positions = half.map((item) => all.indexOf(item));
  assert.deepEqual(
    positions,
    [...positions].sort((left, right) => left - right),
    'original order kept',
  );
  // Independent of the order the items come in.
  const reversedPick = (await sampler(dataFractionSampler, { fraction: 0.5 })).apply([...all].reverse(), { seed: 7 });
  assert.deepEqual(new Set(reversedPick.map((item) => item.id)), halfIds);
});

test('rationale-rate keeps each rationale with probability r and empties the rest, keeping every example', async () => {
  const all = items();
  const withRationale = all.filter((item) => item.rationale !== null).length; // 1800
  for (const rate of [0.15, 0.33, 0.5, 0.85]) {
    const sampled = (await sampler(rationaleRateSampler, { rate })).apply(all, { seed: 42 });
    assert.equal(sampled.length, all.length, 'no example is dropped: the rest train toward an empty rationale');
    const kept = sampled.filter((item) => item.rationale !== null).length;
    // Binomial(1800, r): 4 standard deviations is at most 4·√(1800·0.25) ≈ 85.
    assert.ok(Math.abs(kept - rate * withRationale) < 85, `rate ${rate}: kept ${kept} of ${withRationale}`);
    for (const [index, item] of sampled.entries()) {
      assert.equal(item.label, all[index]!.label);
      if (item.rationale !== null) assert.equal(item.rationale, all[index]!.rationale);
    }
  }
  const third = (await sampler(rationaleRateSampler, { rate: 0.33 })).apply(all, { seed: 42 });
  const half = (await sampler(rationaleRateSampler, { rate: 0.5 })).apply(all, { seed: 42 });
  assert.ok(
    third.every((item, index) => item.rationale === null || half[index]!.rationale !== null),
    'r = 0.33 keeps a subset of r = 0.5',
  );
  assert.deepEqual((await sampler(rationaleRateSampler, { rate: 0.33 })).apply(all, { seed: 42 }), third, 'seeded');
  assert.equal(
    (await sampler(rationaleRateSampler, { rate: 0 })).apply(all, { seed: 1 }).filter((item) => item.rationale !== null).length,
    0,
  );
  assert.equal(
    (await sampler(rationaleRateSampler, { rate: 1 })).apply(all, { seed: 1 }).filter((item) => item.rationale !== null).length,
    withRationale,
  );
});

test('label-source trains toward gold or teacher labels', async () => {
  const all = items(12);
  const gold = (await sampler(labelSourceSampler, { source: 'gold' })).apply(all, { seed: 1 });
  assert.deepEqual(
    gold.map((item) => item.label),
    all.map((item) => item.goldLabel),
  );
  const teacher = (await sampler(labelSourceSampler, { source: 'teacher' })).apply(gold, { seed: 1 });
  assert.deepEqual(
    teacher.map((item) => item.label),
    all.map((item) => item.teacherLabel),
  );
  const withoutGold = (await sampler(labelSourceSampler, { source: 'gold' })).apply([{ ...all[0]!, goldLabel: null }, all[1]!], {
    seed: 1,
  });
  assert.deepEqual(
    withoutGold.map((item) => item.id),
    [all[1]!.id],
    'nothing to train toward without gold',
  );
});

test('agreement-filter drops the rationales (or examples) whose teacher label disagrees with gold', async () => {
  const all = items(40);
  const filtered = (await sampler(agreementFilterSampler, {})).apply(all, { seed: 1 });
  assert.equal(filtered.length, all.length);
  for (const [index, item] of filtered.entries()) {
    const disagree = index % 4 === 0;
    assert.equal(item.rationale, disagree ? null : all[index]!.rationale, `item ${index}`);
  }
  const dropped = (await sampler(agreementFilterSampler, { drop: 'example' })).apply(all, { seed: 1 });
  assert.equal(dropped.length, 30);
  assert.ok(dropped.every((item) => item.teacherLabel === item.goldLabel));
  const caseOnly = (await sampler(agreementFilterSampler, {})).apply([{ ...all[1]!, teacherLabel: ' Neutral. ' }], { seed: 1 });
  assert.notEqual(caseOnly[0]!.rationale, null, 'labels equal up to case, spaces and a full stop agree');
});
