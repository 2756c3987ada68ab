import type { Prompt } from '../../../core/plugins/kinds/prompt.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { builtInTemplateNames } from './built-in-templates.js';

/** Options of {@link templatePrompt}. */
export interface TemplatePromptOptions {
  /** A built-in template (exclusive with `template`). */
  readonly name?: string;
  /** A template text with `{field}` placeholders; `{label}` is the gold label; `{{`/`}}` are literal braces. */
  readonly template?: string;
  /** An optional system message. */
  readonly system?: string;
  /** Few-shot templates: number of exemplars (defaults 6 NLI, 7 CQA, 8 SVAMP). */
  readonly shots?: number;
  /** Few-shot templates: the dataset split the exemplars come from; default `train`, else `valid`. */
  readonly exemplar_split?: string;
}

/**
 * Renders each example into one user message (after an optional system message) from a built-in
 * template (the paper's zero-shot ones, label-given rationalisation, few-shot chain of thought) or
 * the user's own text. Few-shot exemplars are the worked examples of the pipeline's dataset
 * (`Prompt.forDataset`), chosen deterministically, so the same options and data always give the
 * same prompt and the same cache keys.
 */
export const templatePrompt: PluginDescriptor<TemplatePromptOptions, Prompt> = {
  id: 'template',
  kind: 'prompt',
  version: '1.0.0',
  summary: 'Zero-shot, label-given or few-shot chain-of-thought prompts from a built-in or your own {field} template.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { enum: builtInTemplateNames, description: 'A built-in template.' },
      template: {
        type: 'string',
        minLength: 1,
        description: 'Your template: {field} placeholders, {label} = gold label, {{ and }} for literal braces.',
      },
      system: { type: 'string', minLength: 1, description: 'System message sent before the prompt.' },
      shots: { type: 'integer', minimum: 1, maximum: 32, description: 'Few-shot templates: number of exemplars.' },
      exemplar_split: {
        type: 'string',
        minLength: 1,
        description: "Few-shot templates: the dataset's split the exemplars are taken from; default train, else valid.",
      },
    },
    oneOf: [{ required: ['name'] }, { required: ['template'] }],
  },
  exampleOptions: { name: 'nli-zero-shot' },
  async create(options) {
    const { createTemplatePrompt } = await import('./create-template-prompt.js');
    return createTemplatePrompt(options);
  },
};
