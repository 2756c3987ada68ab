import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Evaluator } from '../../../core/plugins/kinds/evaluator.js';

/** Options of {@link exactMatchEvaluator}. */
export interface ExactMatchOptions {
  /** Compare ignoring letter case (default true). */
  readonly ignore_case?: boolean;
}

/** Trims, collapses whitespace and drops a trailing full stop, so `Entailment.` matches `entailment`. */
export function normaliseLabel(text: string, ignoreCase: boolean): string {
  const collapsed = text.trim().replace(/\s+/g, ' ').replace(/\.$/, '');
  return ignoreCase ? collapsed.toLowerCase() : collapsed;
}

/** Exact match of the decoded label against gold, after whitespace normalisation. */
export const exactMatchEvaluator: PluginDescriptor<ExactMatchOptions, Evaluator> = {
  id: 'exact-match',
  kind: 'evaluator',
  version: '1.0.0',
  summary: 'Exact match of predicted and gold label (whitespace-normalised, case-insensitive by default).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ignore_case: { type: 'boolean', default: true, description: 'Compare ignoring letter case.' },
    },
  },
  create(options) {
    const ignoreCase = options.ignore_case ?? true;
    return {
      metric: 'exact-match',
      score: (prediction, gold) => (normaliseLabel(prediction, ignoreCase) === normaliseLabel(gold, ignoreCase) ? 1 : 0),
    };
  },
};
