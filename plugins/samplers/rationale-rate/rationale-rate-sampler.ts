import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Sampler } from '../../../core/plugins/kinds/sampler.js';
import { seededUniform } from '../../../core/training/seeded-random.js';

/** Options of {@link rationaleRateSampler}. */
export interface RationaleRateOptions {
  /** Probability of keeping each example's rationale, in [0, 1]. */
  readonly rate: number;
}

/**
 * Keeps each rationale with probability `rate` (seeded per example id). The others become empty
 * rationales: the example still trains the `explain:` task, toward an empty target, as the paper
 * does, rather than being masked out. A lower rate's kept set is a subset of a higher rate's.
 */
export const rationaleRateSampler: PluginDescriptor<RationaleRateOptions, Sampler> = {
  id: 'rationale-rate',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Keeps each rationale with probability r (seeded); the rest train toward an empty rationale.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['rate'],
    properties: {
      rate: { type: 'number', minimum: 0, maximum: 1, description: 'Probability of keeping a rationale, e.g. 0.33.' },
    },
  },
  exampleOptions: { rate: 0.33 },
  // Without this sampler every rationale is kept: a rate of 1.
  sweepAxes: [{ name: 'rationale_rate', option: 'rate', unsetValue: 1 }],
  create(options) {
    return {
      apply(items, context) {
        return items.map((item) =>
          item.rationale !== null && seededUniform(context.seed, 'rationale-rate', item.id) >= options.rate
            ? { ...item, rationale: null }
            : item,
        );
      },
    };
  },
};
