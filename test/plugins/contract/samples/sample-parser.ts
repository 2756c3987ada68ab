import type { Parser } from '../../../../core/plugins/kinds/parser.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** First word is the label, the rest the rationale. */
export const sampleParser: PluginDescriptor<Record<string, never>, Parser> = {
  id: 'sample-parser',
  kind: 'parser',
  version: '1.0.0',
  summary: 'First word label, rest rationale (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    return {
      parse(completion) {
        const [label, ...rest] = completion.trim().split(/\s+/);
        if (!label) return { status: 'unparsed', label: null, rationale: null, reason: 'empty completion' };
        return { status: 'parsed', label, rationale: rest.length >= 5 ? rest.join(' ') : null };
      },
    };
  },
};
