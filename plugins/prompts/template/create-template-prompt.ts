import { createHash } from 'node:crypto';
import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { Prompt } from '../../../core/plugins/kinds/prompt.js';
import type { TeacherMessage } from '../../../core/plugins/kinds/teacher.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { didYouMeanPhrase } from '../../../core/errors/did-you-mean.js';
import { UserError } from '../../../core/errors/user-error.js';
import { assertDsbsSplit } from '../../../core/parsing/dsbs-datasets.js';
import { resolveDsbsRoot } from '../../../core/parsing/resolve-data-root.js';
import { fillTemplate, findPlaceholders } from '../../../core/parsing/template-placeholders.js';
import { builtInTemplateNames, fewShotTemplates, zeroShotTemplates } from './built-in-templates.js';
import { buildFewShotTemplate } from './few-shot-exemplars.js';
import type { TemplatePromptOptions } from './template-prompt.js';

const plugin = 'prompt/template';

/** The placeholder filled from the example's gold label rather than its fields. */
export const goldLabelPlaceholder = 'label';

/** The template text and shot count the options ask for. */
async function resolveTemplate(options: TemplatePromptOptions, dependencies: PluginDependencies): Promise<{ text: string; shots: number }> {
  if ((options.name === undefined) === (options.template === undefined)) {
    throw new UserError({
      message: 'give exactly one of name (a built-in template) and template (your own text)',
      plugin,
      fix: `built-in templates: ${builtInTemplateNames.join(', ')}`,
    });
  }
  if (options.template !== undefined) {
    const fewShotOnly = (['shots', 'root', 'exemplar_split'] as const).filter((option) => options[option] !== undefined);
    if (fewShotOnly.length > 0) {
      throw new UserError({
        message: `${fewShotOnly.join(', ')} only apply to the built-in few-shot templates`,
        plugin,
        fix: 'write the exemplars into your template text, or remove these options',
      });
    }
    return { text: options.template, shots: 0 };
  }
  const name = options.name!;
  if (name in zeroShotTemplates) {
    const given = (['shots', 'root', 'exemplar_split'] as const).filter((option) => options[option] !== undefined);
    if (given.length > 0)
      throw new UserError({
        message: `${given.join(', ')} do nothing with the zero-shot template ${name}`,
        plugin,
        fix: 'remove them, or pick a *-few-shot template',
      });
    return { text: zeroShotTemplates[name as keyof typeof zeroShotTemplates], shots: 0 };
  }
  const fewShot = fewShotTemplates[name as keyof typeof fewShotTemplates];
  if (!fewShot) {
    throw new UserError({
      message: `unknown built-in template "${name}"`,
      plugin,
      fix: `${didYouMeanPhrase(name, builtInTemplateNames)}built-in templates: ${builtInTemplateNames.join(', ')}`,
    });
  }
  const shots = options.shots ?? fewShot.defaultShots;
  const split = options.exemplar_split ?? (fewShot.dataset === 'cqa' || fewShot.dataset === 'svamp' ? 'train' : 'valid');
  assertDsbsSplit(fewShot.dataset, split);
  const root = resolveDsbsRoot(options.root, dependencies.baseDirectory, dependencies.environment, plugin);
  return { text: await buildFewShotTemplate(root, fewShot.dataset, split, shots), shots };
}

/** Builds the prompt: resolves the template, lists its placeholders and hashes it with its settings. */
export async function createTemplatePrompt(options: TemplatePromptOptions, dependencies: PluginDependencies): Promise<Prompt> {
  const { text, shots } = await resolveTemplate(options, dependencies);
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
