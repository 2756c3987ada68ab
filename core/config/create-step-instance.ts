import { createPluginInstance } from '../plugins/create-plugin-instance.js';
import type { PluginInstanceByKind } from '../plugins/kinds/index.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginKind } from '../plugins/plugin-kind.js';
import type { LoadedPipeline } from './load-pipeline.js';
import type { PluginStep } from './pipeline-config.js';

/**
 * Builds the plugin instance for one step of a loaded pipeline: looks its descriptor up in the
 * pipeline's registry and calls `create` with the step's options and the run's dependencies. The
 * options are checked again (cheaply, with the cached validator), so that a step assembled in code
 * rather than read from YAML meets the same schema and gets its defaults.
 */
export function createStepInstance<K extends PluginKind>(
  loaded: LoadedPipeline,
  kind: K,
  step: PluginStep,
  dependencies: PluginDependencies,
): Promise<PluginInstanceByKind[K]> {
  return createPluginInstance(loaded.registry, kind, step, dependencies, loaded.baseDirectory);
}
