import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { LossWeight } from '../../../core/plugins/kinds/loss-weight.js';

/** Options of {@link constantLossWeight}. */
export interface ConstantLossWeightOptions {
  readonly alpha?: number;
}

/** A fixed α; 0.5 is the papers' setting, 1 with no rationales gives the standard baselines. */
export const constantLossWeight: PluginDescriptor<ConstantLossWeightOptions, LossWeight> = {
  id: 'constant',
  kind: 'loss-weight',
  version: '1.0.0',
  summary: 'Fixed α in α·label + (1−α)·rationale loss (default 0.5).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      alpha: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'Weight of the label loss.' },
    },
  },
  // The papers' 0.5 is what a sweep point keeps when the grid lists no alpha and the pipeline sets none.
  sweepAxes: [{ name: 'alpha', option: 'alpha', unsetValue: 0.5 }],
  create(options) {
    const alpha = options.alpha ?? 0.5;
    return { schedule: () => ({ start: alpha, end: alpha }) };
  },
};
