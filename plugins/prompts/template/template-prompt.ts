import path from 'node:path';
import type { Prompt } from '../../../core/plugins/kinds/prompt.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { builtInTemplateNames } from './built-in-templates.js';

/** A template file larger than this is refused: a prompt is a page of text, and every example carries it. */
export const maxTemplateFileBytes = 256 * 1024;

/** Options of {@link templatePrompt}. */
export interface TemplatePromptOptions {
  /** A built-in template (exclusive with `template`). */
  readonly name?: string;
  /** A template text with `{field}` placeholders; `{label}` is the gold label; `{{`/`}}` are literal braces. */
  readonly template?: string;
  /** A file holding such a template text, relative to the file that names it (a recipe package ships its prompts so). */
  readonly template_file?: string;
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
      template_file: {
        type: 'string',
        minLength: 1,
        existingPath: true,
        description: `A UTF-8 file holding your template (at most ${maxTemplateFileBytes / 1024} KiB), relative to the file that names it: how a recipe package ships its prompts beside its recipes.`,
      },
      system: { type: 'string', minLength: 1, description: 'System message sent before the prompt.' },
      shots: { type: 'integer', minimum: 1, maximum: 32, description: 'Few-shot templates: number of exemplars.' },
      exemplar_split: {
        type: 'string',
        minLength: 1,
        description: "Few-shot templates: the dataset's split the exemplars are taken from; default train, else valid.",
      },
    },
    oneOf: [{ required: ['name'] }, { required: ['template'] }, { required: ['template_file'] }],
  },
  exampleOptions: { name: 'nli-zero-shot' },
  async create(options, dependencies) {
    const { createTemplatePrompt, readTemplateFile } = await import('./create-template-prompt.js');
    const fileText =
      options.template_file === undefined
        ? undefined
        : await readTemplateFile(path.resolve(dependencies.baseDirectory, options.template_file));
    return createTemplatePrompt(options, fileText);
  },
};
