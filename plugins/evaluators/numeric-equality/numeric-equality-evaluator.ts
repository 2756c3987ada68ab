import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Evaluator } from '../../../core/plugins/kinds/evaluator.js';
import { evaluateEquation } from './evaluate-equation.js';

/** Options of {@link numericEqualityEvaluator}. */
export interface NumericEqualityOptions {
  /** Largest absolute difference still counted equal. */
  readonly tolerance?: number;
}

/** SVAMP scoring: the predicted and gold equations are equal when their values are. */
export const numericEqualityEvaluator: PluginDescriptor<NumericEqualityOptions, Evaluator> = {
  id: 'numeric-equality',
  kind: 'evaluator',
  version: '1.0.0',
  summary: 'Equal numeric value of predicted and gold equations (SVAMP).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      tolerance: { type: 'number', minimum: 0, default: 1e-4, description: 'Largest difference counted equal.' },
    },
  },
  create(options) {
    const tolerance = options.tolerance ?? 1e-4;
    return {
      metric: 'numeric-equality',
      score(prediction, gold) {
        const predicted = evaluateEquation(prediction);
        const expected = evaluateEquation(gold);
        return predicted !== null && expected !== null && Math.abs(predicted - expected) <= tolerance ? 1 : 0;
      },
    };
  },
};
