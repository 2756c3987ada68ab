import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import type { Problem } from '../errors/problem.js';

/**
 * `{field}` templates. A placeholder is a name in braces (`{premise}`, `{choice_a}`); `{{` and `}}`
 * stand for literal braces. Any other brace (a JSON example in a prompt, `{ }`) is left as written,
 * so users rarely need to escape anything.
 */
const placeholderPattern = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The distinct placeholder names of a template, in order of first use. */
export function findPlaceholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(placeholderPattern)) {
    const name = match[1];
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}

/** Text for a field value: strings as they are, other values as JSON. */
export function fieldText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'undefined':
      return '';
    case 'object':
      return value === null ? '' : JSON.stringify(value);
    default:
      return String(value);
  }
}

/**
 * Fills a template's placeholders from `values`. A name without a value throws: callers check
 * placeholders against the dataset's fields before any call, so reaching it here is a bug.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(placeholderPattern, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    if (!(name! in values)) throw new Error(`template placeholder {${name}} has no value`);
    return fieldText(values[name!]);
  });
}

/**
 * Problems for placeholders that name no field of the dataset, each with a did-you-mean and the
 * list of fields; empty when all are known. Run before any teacher call.
 *
 * @param plugin - `kind/id` of the prompt plugin, for the problems.
 */
export function unknownPlaceholderProblems(placeholders: readonly string[], fields: readonly string[], plugin: string): Problem[] {
  return placeholders
    .filter((name) => !fields.includes(name))
    .map((name) => ({
      message: `the template uses {${name}}, which is not a field of the dataset`,
      plugin,
      fix: `${didYouMeanPhrase(name, fields)}fields: ${fields.join(', ')}`,
    }));
}
