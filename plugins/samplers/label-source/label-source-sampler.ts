import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Sampler } from '../../../core/plugins/kinds/sampler.js';

/** Options of {@link labelSourceSampler}. */
export interface LabelSourceOptions {
  /** `gold`: standard finetuning labels; `teacher`: distillation labels. */
  readonly source: 'gold' | 'teacher';
}

/**
 * Picks the label the student trains toward: the gold label (finetuning) or the teacher's
 * (distillation; a missing teacher label was already imputed by the training-data builder).
 * Examples without a gold label are dropped under `gold`, since there is nothing to train toward.
 */
export const labelSourceSampler: PluginDescriptor<LabelSourceOptions, Sampler> = {
  id: 'label-source',
  kind: 'sampler',
  version: '1.0.0',
  summary: 'Trains toward gold labels (finetuning) or teacher labels (distillation).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['source'],
    properties: {
      source: { enum: ['gold', 'teacher'], description: 'gold: standard finetuning; teacher: distillation.' },
    },
  },
  exampleOptions: { source: 'teacher' },
  create(options) {
    return {
      apply(items) {
        if (options.source === 'teacher') return items.map((item) => ({ ...item, label: item.teacherLabel }));
        return items.filter((item) => item.goldLabel !== null).map((item) => ({ ...item, label: item.goldLabel }));
      },
    };
  },
};
