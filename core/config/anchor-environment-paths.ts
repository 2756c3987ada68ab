import path from 'node:path';
import type { JsonSchema } from '../plugins/json-schema.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { isPlainObject } from './merge-documents.js';
import { childPointer } from './source-map.js';
import { stepsOf } from './validate-step-options.js';

/**
 * Makes absolute the relative paths typed in a shell — wholly an environment variable's value (`root:
 * ${DATA_DIR}`), or set by `--set` — in options their plugin's schema marks `existingPath`,
 * resolving them against the working directory: `DATA_DIR=data/mine` means the folder beside
 * the user, not beside the pipeline file. Paths written in the pipeline (defaults of
 * `${VAR:-default}` included) stay relative to the file that writes them. Changes the document in place.
 */
export function anchorEnvironmentPaths(
  document: Record<string, unknown>,
  registry: PluginRegistry,
  typedInShell: ReadonlySet<string>,
  workingDirectory: string,
): void {
  if (typedInShell.size === 0) return;
  for (const { kind, pointer, step } of stepsOf(document)) {
    if (typeof step.use !== 'string' || !registry.has(kind, step.use) || !isPlainObject(step.options)) continue;
    const properties = (registry.get(kind, step.use).optionsSchema.properties ?? {}) as Record<string, JsonSchema>;
    const options = step.options;
    for (const [name, value] of Object.entries(options)) {
      const at = childPointer(childPointer(pointer, 'options'), name);
      if (properties[name]?.existingPath !== true || !typedInShell.has(at)) continue;
      if (typeof value === 'string' && value !== '' && !path.isAbsolute(value)) options[name] = path.resolve(workingDirectory, value);
    }
  }
}
