import { standalonePluginDependencies, type PluginDependencies } from '../../core/plugins/plugin-dependencies.js';

/** Plugin dependencies for a test: the working directory, the given environment (empty by default), no real secrets. */
export function testDependencies(overrides: Partial<PluginDependencies> = {}): PluginDependencies {
  return standalonePluginDependencies({ baseDirectory: process.cwd(), environment: {}, ...overrides });
}
