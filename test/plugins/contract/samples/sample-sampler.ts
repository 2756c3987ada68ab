import type { Sampler } from '../../../../core/plugins/kinds/sampler.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** Keeps the first `keep` items. */
export const sampleSampler: PluginDescriptor<{ keep: number }, Sampler> = {
  id: 'sample-sampler',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Keeps the first N items (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: { keep: { type: 'integer', minimum: 0, default: 10 } } },
  create(options) {
    return { apply: (items) => items.slice(0, options.keep) };
  },
};
