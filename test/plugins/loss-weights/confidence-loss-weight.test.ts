import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { sampleItemsFromRecords, trainingExamplesFromItems } from '../../../core/training/training-data.js';
import { confidenceLossWeight, type ConfidenceLossWeightOptions } from '../../../plugins/loss-weights/confidence/confidence-loss-weight.js';
import { sharedDataMissing } from '../../support/paths.js';
import { selfConsistencyRecords } from '../../core/training/self-consistency-records.js';

const dependencies = {} as PluginDependencies;

async function lossWeight(options: ConfidenceLossWeightOptions) {
  return confidenceLossWeight.create(options, dependencies);
}

test('confidence loss weight: α constant (default 0.5) or linear, as the constant and linear plugins give it', async () => {
  assert.deepEqual((await lossWeight({})).schedule(), { start: 0.5, end: 0.5 });
  assert.deepEqual((await lossWeight({ alpha: 0.8 })).schedule(), { start: 0.8, end: 0.8 });
  assert.deepEqual((await lossWeight({ start: 0.9, end: 0.3 })).schedule(), { start: 0.9, end: 0.3 });
});

test(
  "each example weighs the teacher's confidence, at least the floor; unknown confidence weighs `unknown`",
  { skip: sharedDataMissing() },
  async () => {
    const items = sampleItemsFromRecords(await selfConsistencyRecords(40), 'neutral');
    const plain = await lossWeight({});
    const floored = await lossWeight({ floor: 0.5, unknown: 0.3 });
    for (const item of items) {
      if (item.confidence === null) {
        assert.equal(plain.exampleWeight!(item), 1);
        assert.equal(floored.exampleWeight!(item), 0.3);
      } else {
        assert.equal(plain.exampleWeight!(item), item.confidence);
        assert.equal(floored.exampleWeight!(item), Math.max(0.5, item.confidence!));
      }
    }
    const weights = trainingExamplesFromItems(items, floored.exampleWeight!.bind(floored)).map((example) => example.weight);
    assert.deepEqual(new Set(weights), new Set([0.3, 0.5, 0.6, 0.8, 1]));
  },
);

test('α given both ways is a user error naming the plugin and the fix', async () => {
  await assert.rejects(
    async () => lossWeight({ alpha: 0.5, start: 0.9, end: 0.1 }),
    (error: unknown) =>
      error instanceof UserError &&
      error.problems[0]!.plugin === 'loss-weight/confidence' &&
      /both `alpha` and `start`\/`end`/.test(error.problems[0]!.message),
  );
});
