import type { ValidationContext } from '../config/create-ajv.js';
import type { PluginStep } from '../config/pipeline-config.js';
import { pluginOptionsValidator } from '../config/plugin-options-validator.js';
import { schemaProblems } from '../config/schema-problems.js';
import { UserError } from '../errors/user-error.js';
import type { PluginInstanceByKind } from './kinds/index.js';
import type { PluginDependencies } from './plugin-dependencies.js';
import type { PluginKind } from './plugin-kind.js';
import type { PluginRegistry } from './plugin-registry.js';

/**
 * Builds the plugin instance for one step: looks its descriptor up in the registry and calls
 * `create` with the step's options and real run services. The options are checked against the
 * plugin's schema first (with the cached validator), so that a step assembled in code rather than
 * read from YAML meets the same schema and gets its defaults; `baseDirectory` is where its
 * `existingPath` options resolve (default: the dependencies' folder).
 */
export async function createPluginInstance<K extends PluginKind>(
  registry: PluginRegistry,
  kind: K,
  step: PluginStep,
  dependencies: PluginDependencies,
  baseDirectory = dependencies.baseDirectory,
): Promise<PluginInstanceByKind[K]> {
  const descriptor = registry.get(kind, step.use);
  const validator = pluginOptionsValidator(descriptor);
  if (typeof validator !== 'function') throw new UserError(validator);
  const options = structuredClone(step.options) as Record<string, unknown>;
  const context: ValidationContext = { baseDirectory };
  if (!validator.call(context, options)) {
    throw new UserError(
      schemaProblems(validator.errors, { pointerPrefix: '/options', sourceMap: new Map(), plugin: `${kind}/${descriptor.id}` }),
    );
  }
  return (await descriptor.create(options, dependencies)) as PluginInstanceByKind[K];
}
