import type { Parser } from '../../../core/plugins/kinds/parser.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { minimumRationaleWords } from '../../../core/parsing/rationale-cleaning.js';
import { palmFormats } from './palm-formats.js';

/** Options of {@link palmParser}. */
export interface PalmParserOptions {
  /** Which dataset's completion format. */
  readonly dataset: keyof typeof palmFormats;
  /** Fewer words than this count as no rationale (default 5). */
  readonly min_rationale_words?: number;
  /** cqa: `choice` (default) spells the label as the matching choice; `as-written` keeps PaLM's text. */
  readonly choice_spelling?: 'choice' | 'as-written';
}

/**
 * Parses the recorded PaLM-540B few-shot chain-of-thought completions of Distilling Step-by-Step
 * (and answers to the `*-few-shot` templates, which use the same formats). NLI labels are
 * normalised into entailment/neutral/contradiction; cqa labels are the choice text after the
 * `(x)` marker, in the choice's own spelling where it matches one.
 */
export const palmParser: PluginDescriptor<PalmParserOptions, Parser> = {
  id: 'palm',
  kind: 'parser',
  version: '1.0.0',
  summary: 'Label and rationale from PaLM few-shot chain-of-thought completions (anli1, cqa, esnli, svamp formats).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['dataset'],
    properties: {
      dataset: { enum: Object.keys(palmFormats).sort(), description: 'Completion format: anli1, cqa, esnli or svamp.' },
      min_rationale_words: {
        type: 'integer',
        minimum: 0,
        default: minimumRationaleWords,
        description: 'Shorter rationales count as none.',
      },
      choice_spelling: {
        enum: ['choice', 'as-written'],
        default: 'choice',
        description: 'cqa: label spelt as the matching choice, or as PaLM wrote it (the original code).',
      },
    },
  },
  exampleOptions: { dataset: 'esnli' },
  create(options) {
    const format = palmFormats[options.dataset];
    const settings = {
      minimumWords: options.min_rationale_words ?? minimumRationaleWords,
      choiceSpelling: options.choice_spelling ?? 'choice',
    } as const;
    return { parse: (completion, example) => format(completion, example, settings) };
  },
};
