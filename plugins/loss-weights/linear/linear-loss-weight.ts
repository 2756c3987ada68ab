import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { LossWeight } from '../../../core/plugins/kinds/loss-weight.js';

/** Options of {@link linearLossWeight}. */
export interface LinearLossWeightOptions {
  readonly start: number;
  readonly end: number;
}

/** α moving linearly over training, e.g. from rationale-heavy early to label-heavy late. */
export const linearLossWeight: PluginDescriptor<LinearLossWeightOptions, LossWeight> = {
  id: 'linear',
  kind: 'loss-weight',
  version: '1.0.0',
  summary: 'α moving linearly from `start` at step 0 to `end` at the last step.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['start', 'end'],
    properties: {
      start: { type: 'number', minimum: 0, maximum: 1, description: 'α at the first step.' },
      end: { type: 'number', minimum: 0, maximum: 1, description: 'α at the last step.' },
    },
  },
  exampleOptions: { start: 0.8, end: 0.2 },
  create(options) {
    return { schedule: () => ({ start: options.start, end: options.end }) };
  },
};
