import type { Parser } from '../../../core/plugins/kinds/parser.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { minimumRationaleWords } from '../../../core/parsing/rationale-cleaning.js';
import { RegexAnswerParser } from '../../../core/parsing/regex-answer-parser.js';
import { zeroShotPreset, type ZeroShotPresetName } from './zero-shot-presets.js';

/** The prompt templates this parser reads answers to, and the preset of each. */
const presetOfTemplate = {
  'nli-zero-shot': 'nli',
  'nli-label-given': 'nli-label-given',
  'cqa-zero-shot': 'cqa',
  'svamp-zero-shot': 'svamp',
} as const satisfies Record<string, ZeroShotPresetName>;

/** Options of {@link zeroShotParser}. */
export interface ZeroShotParserOptions {
  /** The built-in `template` prompt the answers respond to. */
  readonly template: keyof typeof presetOfTemplate;
  /** Fewer words than this count as no rationale (default 5). */
  readonly min_rationale_words?: number;
}

/**
 * Reads GPT or Claude answers to the paper's zero-shot templates: the label word first or stated
 * ("the claim is false", "the correct answer is (c)", "the final answer is 42"), the rationale the
 * rest. The `regex` parser with patterns chosen per template (`zero-shot-presets.ts`).
 */
export const zeroShotParser: PluginDescriptor<ZeroShotParserOptions, Parser> = {
  id: 'zero-shot',
  kind: 'parser',
  version: '1.0.0',
  summary: 'Label and rationale from chat-model answers to the built-in zero-shot and label-given templates.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['template'],
    properties: {
      template: { enum: Object.keys(presetOfTemplate), description: 'The template prompt the answers respond to.' },
      min_rationale_words: {
        type: 'integer',
        minimum: 0,
        default: minimumRationaleWords,
        description: 'Shorter rationales count as none.',
      },
    },
  },
  exampleOptions: { template: 'nli-zero-shot' },
  create(options) {
    return new RegexAnswerParser({
      ...zeroShotPreset(presetOfTemplate[options.template]),
      minimumRationaleWords: options.min_rationale_words ?? minimumRationaleWords,
    });
  },
};
