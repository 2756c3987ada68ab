import type { Prompt } from '../../../../core/plugins/kinds/prompt.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** A fixed template with one placeholder. */
export const samplePrompt: PluginDescriptor<Record<string, never>, Prompt> = {
  id: 'sample-prompt',
  kind: 'prompt',
  version: '1.0.0',
  summary: 'Asks the question as it is (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    return {
      placeholders: ['question'],
      templateHash: 'sample-prompt-1',
      shots: 0,
      render: (example) => [{ role: 'user', content: `${String(example.fields.question)}\nExplain briefly.` }],
    };
  },
};
