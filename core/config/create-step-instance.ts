import { UserError } from '../errors/user-error.js';
import type { PluginInstanceByKind } from '../plugins/kinds/index.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginKind } from '../plugins/plugin-kind.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ValidationContext } from './create-ajv.js';
import type { LoadedPipeline } from './load-pipeline.js';
import type { PluginStep } from './pipeline-config.js';
import { pluginOptionsValidator } from './plugin-options-validator.js';
import { schemaProblems } from './schema-problems.js';

/**
 * Builds the plugin instance for one step of a loaded pipeline: looks its descriptor up in the
 * pipeline's registry and calls `create` with the step's options and the run's dependencies. The
 * options are checked again (cheaply, with the cached validator), so that a step assembled in code
 * rather than read from YAML meets the same schema and gets its defaults.
 */
export async function createStepInstance<K extends PluginKind>(
  loaded: LoadedPipeline,
  kind: K,
  step: PluginStep,
  dependencies: PluginDependencies,
): Promise<PluginInstanceByKind[K]> {
  return createPluginInstance(loaded.registry, loaded.baseDirectory, kind, step, dependencies);
}

/**
 * {@link createStepInstance} for a step outside a pipeline (a command that names a plugin and its
 * options itself): relative paths in the options resolve against `baseDirectory`.
 */
export async function createPluginInstance<K extends PluginKind>(
  registry: PluginRegistry,
  baseDirectory: string,
  kind: K,
  step: PluginStep,
  dependencies: PluginDependencies,
): Promise<PluginInstanceByKind[K]> {
  const descriptor = registry.get(kind, step.use);
  const validator = pluginOptionsValidator(descriptor);
  if (typeof validator !== 'function') throw new UserError(validator);
  const options = structuredClone(step.options ?? {}) as Record<string, unknown>;
  const context: ValidationContext = { baseDirectory };
  if (!validator.call(context, options)) {
    throw new UserError(
      schemaProblems(validator.errors, { pointerPrefix: '/options', sourceMap: new Map(), plugin: `${kind}/${descriptor.id}` }),
    );
  }
  return (await descriptor.create(options, dependencies)) as PluginInstanceByKind[K];
}
