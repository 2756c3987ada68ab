import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { SampleItem, Sampler } from '../../../core/plugins/kinds/sampler.js';

/** Options of {@link majorityRationalesSampler}. */
export interface MajorityRationalesOptions {
  /** `longest` (default): one item with the longest agreeing rationale; `all`: one item per agreeing rationale. */
  readonly keep?: 'longest' | 'all';
}

/** The item once per rationale in `rationales`, or once with no rationale when there is none. */
function itemsWith(item: SampleItem, rationales: readonly string[]): SampleItem[] {
  if (rationales.length === 0) return [{ ...item, rationale: null }];
  return rationales.map((rationale) => ({ ...item, rationale }));
}

/**
 * Self-consistency (`teacher.samples` above 1): trains only on rationales whose own answer agrees
 * with the majority label, since a rationale argued toward another label teaches reasoning that the
 * label contradicts. `longest` keeps the longest agreeing rationale (the fullest argument); `all`
 * makes one training item per agreeing rationale, with the same input and label, so that the
 * student sees every way the teacher argued for the label. An example with no agreeing rationale
 * keeps its label and trains toward an empty rationale. Items from records with one answer (no
 * `agreeingRationales`) pass unchanged. Deterministic: the rationales come longest first, ties in
 * sample order.
 */
export const majorityRationalesSampler: PluginDescriptor<MajorityRationalesOptions, Sampler> = {
  id: 'majority-rationales',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Keeps only rationales whose own answer agrees with the majority label (the longest, or all of them).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      keep: {
        enum: ['longest', 'all'],
        default: 'longest',
        description: 'longest: one item with the longest agreeing rationale; all: one item per agreeing rationale.',
      },
    },
  },
  exampleOptions: { keep: 'longest' },
  create(options) {
    const keep = options.keep ?? 'longest';
    return {
      apply(items) {
        return items.flatMap((item) => {
          if (item.agreeingRationales === undefined) return [item];
          return itemsWith(item, keep === 'all' ? item.agreeingRationales : item.agreeingRationales.slice(0, 1));
        });
      },
    };
  },
};
