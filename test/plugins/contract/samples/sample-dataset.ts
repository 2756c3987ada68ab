import type { Dataset, DatasetExample } from '../../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';
import { asyncValues } from '../../../support/async-values.js';

/** A dataset of examples given inline in its options: the smallest possible dataset plugin. */
export const sampleDataset: PluginDescriptor<{ examples: { question: string; answer: string }[] }, Dataset> = {
  id: 'sample-dataset',
  kind: 'dataset',
  version: '1.0.0',
  summary: 'Examples written inline in the options (contract sample).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['examples'],
    properties: {
      examples: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['question', 'answer'],
          properties: { question: { type: 'string' }, answer: { type: 'string' } },
        },
      },
    },
  },
  exampleOptions: { examples: [{ question: 'Is water wet?', answer: 'yes' }] },
  create(options) {
    const examples: DatasetExample[] = options.examples.map((example, index) => ({
      id: `inline/${index}`,
      split: 'train',
      fields: { question: example.question },
      goldLabel: example.answer,
    }));
    return {
      splits: ['train'],
      fields: ['question'],
      labels: null,
      read: (split) => asyncValues(split === 'train' ? examples : []),
      studentInput: (example) => String(example.fields.question),
      sourceFiles: () => [],
    };
  },
};
