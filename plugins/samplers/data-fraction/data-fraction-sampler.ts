import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Sampler } from '../../../core/plugins/kinds/sampler.js';
import { seededOrder } from '../../../core/training/seeded-random.js';

/** Options of {@link dataFractionSampler}. */
export interface DataFractionOptions {
  /** Share of the training examples to keep, in (0, 1]. */
  readonly fraction: number;
}

/**
 * Keeps round(fraction × n) training examples, chosen by a seeded order of their ids (the data
 * fraction ablation: 12.5%, 25%, 50%, 100%). Smaller fractions are subsets of larger ones for the
 * same seed; the kept examples stay in their original order.
 */
export const dataFractionSampler: PluginDescriptor<DataFractionOptions, Sampler> = {
  id: 'data-fraction',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Keeps a seeded random share of the training examples.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['fraction'],
    properties: {
      fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Share of training examples to keep, e.g. 0.125.' },
    },
  },
  exampleOptions: { fraction: 0.5 },
  // A fraction of 1 keeps every example: a sweep point at 1 leaves the sampler out.
  sweepAxes: [{ name: 'data_fraction', option: 'fraction', unsetValue: 1, omittedAt: 1 }],
  create(options) {
    return {
      apply(items, context) {
        const count = Math.max(1, Math.round(options.fraction * items.length));
        const kept = new Set(seededOrder(items, context.seed, 'data-fraction', (item) => item.id).slice(0, count));
        return items.filter((item) => kept.has(item));
      },
    };
  },
};
