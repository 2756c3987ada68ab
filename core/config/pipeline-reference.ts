import { stringify } from 'yaml';
import { describeOptions, type OptionDescription } from '../plugins/describe-options.js';
import { describeOptionLine, describePlugin } from '../plugins/describe-plugin.js';
import type { JsonSchema } from '../plugins/json-schema.js';
import type { AnyPluginDescriptor } from '../plugins/plugin-descriptor.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { pluginSteps } from './pipeline-config.js';
import { pipelineSchema } from './pipeline-schema.js';

/** The command that rewrites the generated pages, named in the test that checks them. */
export const referenceCommand = 'npm run --silent build && node scripts/generate-reference.js';

const generatedNote = `<!-- Generated from the JSON Schemas and plugin descriptors by \`${referenceCommand}\`; do not edit. -->`;

/** Where a plugin's page lives, relative to `docs/`: ids are unique only within a kind. */
export function pluginPagePath(descriptor: Pick<AnyPluginDescriptor, 'kind' | 'id'>): string {
  return `plugins/${descriptor.kind}-${descriptor.id}.md`;
}

/** `[jsonl](plugins/dataset-jsonl.md), …`: the built-in plugins a step may name. */
function pluginLinks(registry: PluginRegistry, pointer: string): string | null {
  const step = pluginSteps.find((each) => each.pointer === pointer);
  if (!step) return null;
  const links = registry.list(step.kind).map((descriptor) => `[\`${descriptor.id}\`](${pluginPagePath(descriptor)})`);
  return `Built-in ${step.kind} plugins: ${links.join(', ')}. External ones are named in \`plugins\`.`;
}

/** One top-level key's section: what it is, its keys, the plugins it can name, an example. */
function keySection(name: string, schema: JsonSchema, registry: PluginRegistry): string[] {
  const [row, ...children] = describeOptions({ properties: { [name]: schema }, required: pipelineSchema().required }, pipelineSchema());
  // The key's example is shown whole as a YAML block below, not inline.
  const key: OptionDescription = { ...row!, example: undefined };
  const lines = [`## \`${name}\``, '', describeOptionLine(key), ...children.map(describeOptionLine)];
  const links = pluginLinks(registry, `/${name}`);
  if (links) lines.push('', links);
  const examples = (schema as { examples?: unknown[] }).examples;
  if (examples && examples.length > 0) {
    lines.push('', '```yaml', stringify({ [name]: examples[0] }, { lineWidth: 0 }).trimEnd(), '```');
  }
  return [...lines, ''];
}

/**
 * `docs/pipeline-reference.md`: every key of the pipeline file from `schemas/pipeline.schema.json`
 * (type, required, default, description, bounds, an example), with links to the plugin pages.
 */
export function pipelineReference(registry: PluginRegistry): string {
  const schema = pipelineSchema() as { description?: string; properties: Record<string, JsonSchema> };
  const lines = [
    generatedNote,
    '',
    '# Pipeline file reference',
    '',
    schema.description ?? '',
    '',
    'Every key below is checked by `distill validate`; an unknown key is an error. Keys starting with `x-` are free',
    'space for YAML anchors and are ignored. `${NAME}` in a value is replaced by the environment variable `NAME`',
    '(`${NAME:-fallback}` when it may be unset; `$${` writes a literal `${`). Paths are relative to the pipeline file.',
    'A required key is marked so; `Default` is the value used when the key is left out. Each plugin’s `options` are',
    'on its own page, linked from its step. New to pipelines? Start with [Your own data](your-own-data.md); to add a',
    'step of your own, see [Write a plugin](write-a-plugin.md).',
    '',
  ];
  for (const [name, child] of Object.entries(schema.properties)) lines.push(...keySection(name, child, registry));
  lines.push('## Plugin pages', '');
  for (const descriptor of registry.list()) {
    lines.push(`- [${descriptor.kind} \`${descriptor.id}\`](${pluginPagePath(descriptor)}): ${descriptor.summary}`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Every generated page by its path relative to the repository root: the pipeline reference and one
 * page per plugin of the registry. The generator script writes them; a test compares them with the
 * checked-in files.
 */
export function referencePages(registry: PluginRegistry): Map<string, string> {
  const pages = new Map<string, string>([['docs/pipeline-reference.md', pipelineReference(registry)]]);
  for (const descriptor of registry.list()) {
    pages.set(`docs/${pluginPagePath(descriptor)}`, `${generatedNote}\n\n${describePlugin(descriptor)}`);
  }
  return pages;
}
