import type { AnyPluginDescriptor } from '../../core/plugins/plugin-descriptor.js';
import { standalonePluginDependencies, type PluginDependencies } from '../../core/plugins/plugin-dependencies.js';
import type { PluginKind } from '../../core/plugins/plugin-kind.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { repositoryRoot } from './bench-paths.js';

/** Plugin dependencies for a bench: the repository root, the process environment, a quiet logger. */
export function benchDependencies(overrides: Partial<PluginDependencies> = {}): PluginDependencies {
  return standalonePluginDependencies({ baseDirectory: repositoryRoot, environment: process.env, ...overrides });
}

/**
 * A built-in plugin's descriptor, taken from the one list of built-ins, so benches measure the
 * plugins a pipeline would get and not copies of them.
 */
export function builtinDescriptor(kind: PluginKind, id: string): AnyPluginDescriptor {
  return builtinRegistry().get(kind, id);
}
