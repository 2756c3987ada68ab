import type { Evaluator } from '../../../../core/plugins/kinds/evaluator.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** Exact string equality, nothing normalised. */
export const sampleEvaluator: PluginDescriptor<Record<string, never>, Evaluator> = {
  id: 'sample-evaluator',
  kind: 'evaluator',
  version: '1.0.0',
  summary: 'Strict string equality (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ metric: 'strict-equality', score: (prediction, gold) => (prediction === gold ? 1 : 0) }),
};
