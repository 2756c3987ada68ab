import type { LossWeight } from '../../../../core/plugins/kinds/loss-weight.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** Label only. */
export const sampleLossWeight: PluginDescriptor<Record<string, never>, LossWeight> = {
  id: 'sample-loss-weight',
  kind: 'loss-weight',
  version: '1.0.0',
  summary: 'α = 1: label loss only (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ schedule: () => ({ start: 1, end: 1 }) }),
};
