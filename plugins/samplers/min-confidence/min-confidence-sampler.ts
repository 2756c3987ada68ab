import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { SampleItem, Sampler } from '../../../core/plugins/kinds/sampler.js';

/** Options of {@link minConfidenceSampler}. */
export interface MinConfidenceOptions {
  /** Examples whose teacher confidence is below this are dropped (0 keeps every known confidence). */
  readonly threshold: number;
  /** What to do with an example whose confidence is unknown (default `keep`). */
  readonly unknown?: 'keep' | 'drop';
}

/**
 * Drops the examples the teacher was unsure of: those whose confidence (the majority's share of the
 * votes with `teacher.samples`, or the label's probability from log-probabilities) is below
 * `threshold`. An example with no confidence is kept by default: an unknown confidence is not a low
 * one (a teacher asked once without log-probabilities knows none at all, and dropping would then
 * silently empty the training set); `unknown: drop` trains only on examples whose confidence is
 * known. Deterministic and order-preserving; no randomness is involved.
 */
export const minConfidenceSampler: PluginDescriptor<MinConfidenceOptions, Sampler> = {
  id: 'min-confidence',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Drops examples whose teacher confidence is below a threshold (unknown confidence: kept by default).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['threshold'],
    properties: {
      threshold: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: 'Lowest teacher confidence kept (0 to 1); with 5 samples, 0.6 keeps labels that 3 of 5 answers agree on.',
      },
      unknown: {
        enum: ['keep', 'drop'],
        default: 'keep',
        description: 'Examples with no confidence (one answer without log-probabilities): keep (default) or drop.',
      },
    },
  },
  exampleOptions: { threshold: 0.6 },
  // A threshold of 0 drops nothing whose confidence is known; with `unknown: keep` it changes nothing.
  sweepAxes: [{ name: 'min_confidence', option: 'threshold', unsetValue: 0, omittedAt: 0 }],
  create(options) {
    const keepUnknown = (options.unknown ?? 'keep') === 'keep';
    const kept = (item: SampleItem): boolean =>
      item.confidence === undefined || item.confidence === null ? keepUnknown : item.confidence >= options.threshold;
    return { apply: (items) => items.filter(kept) };
  },
};
