import path from 'node:path';
import type { Problem } from '../errors/problem.js';
import { isUserError } from '../errors/user-error.js';
import { loadExternalPlugins } from '../plugins/load-external-plugins.js';
import type { AnyPluginDescriptor } from '../plugins/plugin-descriptor.js';
import { PluginRegistry } from '../plugins/plugin-registry.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/**
 * The registry a pipeline's steps resolve against: `base` plus the plugins named in its `plugins:`
 * list. Each reference that fails to load or register adds problems located at its list entry;
 * the others are still registered, so that validation can go on.
 */
export async function pipelinePluginRegistry(
  document: Record<string, unknown>,
  base: PluginRegistry,
  baseDirectory: string,
  sourceMap: SourceMap,
  problems: Problem[],
): Promise<PluginRegistry> {
  const references = Array.isArray(document.plugins) ? document.plugins : [];
  if (references.length === 0) return base;
  const registry = new PluginRegistry(base.list(), base.defaults);
  for (const [index, specifier] of references.entries()) {
    if (typeof specifier !== 'string' || specifier === '') continue; // the shape check reports it
    const pointer = childPointer('/plugins', index);
    const position = locate(sourceMap, pointer);
    const location = { ...position, pointer };
    // A path resolves from the file that wrote it, so a recipe reached through `extends` can name
    // plugins beside itself.
    const from = position ? path.dirname(path.resolve(position.file)) : baseDirectory;
    let descriptors: AnyPluginDescriptor[];
    try {
      descriptors = await loadExternalPlugins([{ specifier, baseDirectory: from, location }]);
    } catch (error) {
      if (!isUserError(error)) throw error;
      problems.push(...error.problems);
      continue;
    }
    for (const descriptor of descriptors) {
      try {
        registry.register(descriptor, `plugin "${specifier}"`);
      } catch (error) {
        if (!isUserError(error)) throw error;
        problems.push(...error.problems.map((problem) => ({ ...problem, ...location })));
      }
    }
  }
  return registry;
}
