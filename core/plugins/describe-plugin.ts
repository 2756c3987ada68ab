import { stringify } from 'yaml';
import { pluginSteps } from '../config/pipeline-config.js';
import { crossKeyRules, describeOptions, type OptionDescription } from './describe-options.js';
import type { JsonSchema } from './json-schema.js';
import type { AnyPluginDescriptor } from './plugin-descriptor.js';
import type { PluginKind } from './plugin-kind.js';

/** A value as it would be written in a pipeline file, on one line: `0.1`, `runs`, `[a, b]`. */
export function yamlValue(value: unknown): string {
  return stringify(value, { flowCollectionPadding: false, lineWidth: 0, collectionStyle: 'flow' }).trim();
}

/** One option as one Markdown list item: path, type, required, description, default, bounds, example. */
export function describeOptionLine(option: OptionDescription): string {
  const head = `- \`${option.path}\` (${option.type}${option.required ? ', required' : ''})`;
  const sentences: string[] = [];
  if (option.description !== undefined) sentences.push(option.description);
  if (option.default !== undefined) sentences.push(`Default: \`${yamlValue(option.default)}\`.`);
  if (option.constraints.length > 0) sentences.push(`Allowed: ${option.constraints.join(', ')}.`);
  if (option.example !== undefined) sentences.push(`Example: \`${yamlValue(option.example)}\`.`);
  return sentences.length > 0 ? `${head}: ${sentences.join(' ')}` : head;
}

/** The pipeline key a plugin of a kind is named under, and whether it is a list there. */
export function pipelineKeyOf(kind: PluginKind): { readonly key: string; readonly list: boolean } {
  const step = pluginSteps.find((each) => each.kind === kind)!;
  return { key: step.pointer.slice(1), list: step.list };
}

/** A pipeline snippet that uses the plugin with its example options (or none, when `{}` is valid). */
export function exampleSnippet(descriptor: AnyPluginDescriptor): string {
  const { key, list } = pipelineKeyOf(descriptor.kind);
  const options = descriptor.exampleOptions as Record<string, unknown> | undefined;
  const step = { use: descriptor.id, ...(options && Object.keys(options).length > 0 ? { options } : {}) };
  return stringify({ [key]: list ? [step] : step }, { lineWidth: 0 }).trimEnd();
}

/**
 * The reference of one plugin in Markdown: what it is, what it does, every option (type, default,
 * description, bounds) and an example. The checked-in `docs/plugins/<kind>-<id>.md` and
 * `distill plugins <id>` print exactly this, so the two cannot disagree.
 */
export function describePlugin(descriptor: AnyPluginDescriptor): string {
  const schema = descriptor.optionsSchema as JsonSchema & { description?: unknown };
  const { key, list } = pipelineKeyOf(descriptor.kind);
  const lines = [
    `# ${descriptor.kind} plugin \`${descriptor.id}\``,
    '',
    `Version ${descriptor.version}. ${descriptor.summary}`,
    '',
    `Named in a pipeline as \`use: ${descriptor.id}\` ${list ? `in an item of the \`${key}\` list` : `under \`${key}\``}.`,
  ];
  if (typeof schema.description === 'string') lines.push('', schema.description);
  const options = describeOptions(schema);
  lines.push('', '## Options', '');
  if (options.length === 0) lines.push('None: `options` may be left out.');
  else lines.push(...options.map(describeOptionLine));
  const rules = crossKeyRules(schema);
  if (rules.length > 0) lines.push('', 'Between options:', '', ...rules.map((rule) => `- ${rule}`));
  lines.push('', '## Example', '', '```yaml', exampleSnippet(descriptor), '```', '');
  return lines.join('\n');
}

/** One plugin's reference as data: what `distill plugins <id> --json` returns. */
export interface PluginDocumentation {
  readonly kind: string;
  readonly id: string;
  readonly version: string;
  readonly summary: string;
  /** The options schema's own description: what the plugin does, at length. */
  readonly description?: string;
  readonly options: OptionDescription[];
  /** A pipeline snippet using the plugin's example options. */
  readonly example: string;
}

/** The data {@link describePlugin} renders. */
export function pluginDocumentation(descriptor: AnyPluginDescriptor): PluginDocumentation {
  const description = (descriptor.optionsSchema as { description?: unknown }).description;
  return {
    kind: descriptor.kind,
    id: descriptor.id,
    version: descriptor.version,
    summary: descriptor.summary,
    ...(typeof description === 'string' ? { description } : {}),
    options: describeOptions(descriptor.optionsSchema),
    example: exampleSnippet(descriptor),
  };
}
