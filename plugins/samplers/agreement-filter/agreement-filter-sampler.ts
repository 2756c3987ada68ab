import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { SampleItem, Sampler } from '../../../core/plugins/kinds/sampler.js';

/** Options of {@link agreementFilterSampler}. */
export interface AgreementFilterOptions {
  /** `rationale`: empty the rationale of a disagreeing example; `example`: drop the example. */
  readonly drop?: 'rationale' | 'example';
}

/** Whitespace- and case-insensitive label comparison, as the exact-match evaluator compares. */
function sameLabel(left: string, right: string): boolean {
  const normalise = (text: string) => text.trim().replace(/\s+/g, ' ').replace(/\.$/, '').toLowerCase();
  return normalise(left) === normalise(right);
}

function disagrees(item: SampleItem): boolean {
  return item.goldLabel !== null && item.teacherLabel !== null && !sameLabel(item.goldLabel, item.teacherLabel);
}

/**
 * Drops rationales whose teacher label disagrees with gold: a rationale argued toward the wrong
 * answer teaches the wrong reasoning. Examples without gold are left alone (nothing to compare).
 */
export const agreementFilterSampler: PluginDescriptor<AgreementFilterOptions, Sampler> = {
  id: 'agreement-filter',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Drops rationales (or whole examples) whose teacher label disagrees with gold.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      drop: { enum: ['rationale', 'example'], default: 'rationale', description: 'What to drop when teacher and gold disagree.' },
    },
  },
  create(options) {
    const drop = options.drop ?? 'rationale';
    return {
      apply(items) {
        if (drop === 'example') return items.filter((item) => !disagrees(item));
        return items.map((item) => (disagrees(item) && item.rationale !== null ? { ...item, rationale: null } : item));
      },
    };
  },
};
