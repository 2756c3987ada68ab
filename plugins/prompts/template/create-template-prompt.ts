import { createHash } from 'node:crypto';
import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { Prompt } from '../../../core/plugins/kinds/prompt.js';
import type { TeacherMessage } from '../../../core/plugins/kinds/teacher.js';
import { didYouMeanPhrase } from '../../../core/errors/did-you-mean.js';
import { UserError } from '../../../core/errors/user-error.js';
import { readLimitedFile } from '../../../core/config/read-limited-file.js';
import { fillTemplate, findPlaceholders, unknownPlaceholderProblems } from '../../../core/parsing/template-placeholders.js';
import { builtInTemplateNames, fewShotQueries, fewShotTemplates, zeroShotTemplates, type FewShotFormat } from './built-in-templates.js';
import { buildFewShotTemplate } from './few-shot-exemplars.js';
import { maxTemplateFileBytes, type TemplatePromptOptions } from './template-prompt.js';

const plugin = 'prompt/template';

/** The placeholder filled from the example's gold label rather than its fields. */
export const goldLabelPlaceholder = 'label';

/** Options that only the built-in few-shot templates take. */
const fewShotOptions = ['shots', 'exemplar_split'] as const;

/** What the options ask for: a whole template text, or a few-shot format whose exemplars come from the dataset. */
type TemplateRequest =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'few-shot'; readonly format: FewShotFormat; readonly shots: number; readonly split: string | undefined };

/**
 * The text of a `template_file` (an absolute path): UTF-8, at most {@link maxTemplateFileBytes}. A
 * file too large or unreadable is a {@link UserError} naming it.
 */
export async function readTemplateFile(file: string): Promise<string> {
  let read;
  try {
    read = await readLimitedFile(file, maxTemplateFileBytes);
  } catch (error) {
    throw new UserError({ message: `cannot read the template_file ${file}: ${(error as Error).message}`, plugin, fix: 'name a text file' });
  }
  if ('tooLarge' in read) {
    throw new UserError({
      message: `the template_file ${file} is larger than ${maxTemplateFileBytes} bytes`,
      plugin,
      fix: 'a prompt template is a page of text: name the template file, not a data file',
    });
  }
  if (read.text.trim() === '')
    throw new UserError({ message: `the template_file ${file} is empty`, plugin, fix: 'write the template text into it' });
  return read.text;
}

/** Checks the options and says which template they ask for; nothing is read yet. */
function resolveTemplate(options: TemplatePromptOptions, fileText: string | undefined): TemplateRequest {
  const given = [options.name, options.template, options.template_file].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw new UserError({
      message: 'give exactly one of name (a built-in template), template (your own text) and template_file (a file of it)',
      plugin,
      fix: `built-in templates: ${builtInTemplateNames.join(', ')}`,
    });
  }
  const fewShotGiven = fewShotOptions.filter((option) => options[option] !== undefined);
  const ownText = options.template ?? (options.template_file === undefined ? undefined : fileText);
  if (ownText !== undefined) {
    if (fewShotGiven.length > 0) {
      throw new UserError({
        message: `${fewShotGiven.join(', ')} only apply to the built-in few-shot templates`,
        plugin,
        fix: 'write the exemplars into your template text, or remove these options',
      });
    }
    return { kind: 'text', text: ownText };
  }
  const name = options.name!;
  if (Object.hasOwn(zeroShotTemplates, name)) {
    if (fewShotGiven.length > 0)
      throw new UserError({
        message: `${fewShotGiven.join(', ')} do nothing with the zero-shot template ${name}`,
        plugin,
        fix: 'remove them, or pick a *-few-shot template',
      });
    return { kind: 'text', text: zeroShotTemplates[name as keyof typeof zeroShotTemplates] };
  }
  // Own keys only: a name such as `toString` is no template.
  const fewShot = Object.hasOwn(fewShotTemplates, name) ? fewShotTemplates[name as keyof typeof fewShotTemplates] : undefined;
  if (!fewShot) {
    throw new UserError({
      message: `unknown built-in template "${name}"`,
      plugin,
      fix: `${didYouMeanPhrase(name, builtInTemplateNames)}built-in templates: ${builtInTemplateNames.join(', ')}`,
    });
  }
  return { kind: 'few-shot', format: fewShot.format, shots: options.shots ?? fewShot.defaultShots, split: options.exemplar_split };
}

/** The split exemplars come from when the options name none: the training split, else the validation split. */
function exemplarSplit(dataset: Dataset, given: string | undefined): string {
  const split = given ?? ['train', 'valid'].find((candidate) => dataset.splits.includes(candidate));
  if (split === undefined || !dataset.splits.includes(split)) {
    throw new UserError({
      message:
        split === undefined
          ? 'the dataset has no train or valid split to take exemplars from'
          : `exemplar_split "${split}" is not a split of the dataset`,
      plugin,
      fix: `${split === undefined ? '' : didYouMeanPhrase(split, dataset.splits)}set exemplar_split to one of: ${dataset.splits.join(', ')}`,
    });
  }
  return split;
}

/** The few-shot template for the dataset: its placeholders checked against the fields, then the exemplars read. */
async function fewShotText(request: Extract<TemplateRequest, { kind: 'few-shot' }>, dataset: Dataset): Promise<string> {
  const problems = unknownPlaceholderProblems(findPlaceholders(fewShotQueries[request.format]), dataset.fields, plugin);
  if (problems.length > 0) throw new UserError(problems);
  return buildFewShotTemplate(dataset, request.format, exemplarSplit(dataset, request.split), request.shots);
}

/** A prompt from a whole template text: its placeholders, its hash over the text and settings, and its rendering. */
function promptFromText(text: string, shots: number, options: TemplatePromptOptions): Prompt {
  const system = options.system ?? null;
  const usesGoldLabel = findPlaceholders(text).includes(goldLabelPlaceholder);
  // `{label}` is the gold label, not a dataset field, so it is not among the placeholders checked against fields.
  const placeholders = [...findPlaceholders(text), ...(system ? findPlaceholders(system) : [])].filter(
    (name, position, all) => name !== goldLabelPlaceholder && all.indexOf(name) === position,
  );
  const templateHash = createHash('sha256')
    .update(JSON.stringify({ template: text, system, shots, name: options.name ?? null }))
    .digest('hex');
  return {
    placeholders,
    templateHash,
    shots,
    render(example: DatasetExample): readonly TeacherMessage[] {
      const values: Record<string, unknown> = { ...example.fields };
      if (usesGoldLabel) {
        if (example.goldLabel === null) {
          throw new UserError({
            message: `example ${example.id} has no gold label for the {label} placeholder`,
            plugin,
            fix: 'label-given templates need a dataset with gold labels (set label_field for the jsonl dataset)',
          });
        }
        values[goldLabelPlaceholder] = example.goldLabel;
      }
      const messages: TeacherMessage[] = [];
      if (system) messages.push({ role: 'system', content: fillTemplate(system, values) });
      messages.push({ role: 'user', content: fillTemplate(text, values) });
      return messages;
    },
  };
}

/**
 * Builds the prompt (`templateFileText`: what `options.template_file` holds, read by the caller). A few-shot template is complete only with its exemplars, which are the worked
 * examples of the pipeline's dataset: until `forDataset` gives them, it knows its placeholders and
 * shot count but renders nothing.
 */
export function createTemplatePrompt(options: TemplatePromptOptions, templateFileText?: string): Prompt {
  const request = resolveTemplate(options, templateFileText);
  if (request.kind === 'text') return promptFromText(request.text, 0, options);
  const withoutExemplars = promptFromText(fewShotQueries[request.format], request.shots, options);
  return {
    ...withoutExemplars,
    render() {
      throw new Error(`the few-shot template ${options.name} has no exemplars yet: render the prompt that forDataset returns`);
    },
    forDataset: async (dataset) => promptFromText(await fewShotText(request, dataset), request.shots, options),
  };
}
