import path from 'node:path';
import type { PluginStep } from '../config/pipeline-config.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { redactSecrets } from '../config/redact.js';
import type { PluginKind } from '../plugins/plugin-kind.js';

/** What about a plugin step changes its output: the plugin, its version and its options, never secrets. */
export interface StepIdentity {
  readonly kind: PluginKind;
  readonly id: string;
  readonly version: string;
  readonly options: unknown;
}

/**
 * The identity of a step for stage signatures and the lockfile. Secret values are replaced by a
 * marker, so rotating an API key neither reruns a stage nor lands in a file. Options the plugin's
 * schema marks `existingPath` are made absolute: the same data reached from a pipeline in another
 * folder (a recipe that `extends` a shared one) is the same input.
 */
export function stepIdentity(loaded: LoadedPipeline, kind: PluginKind, step: PluginStep): StepIdentity {
  const descriptor = loaded.registry.get(kind, step.use);
  const properties = (descriptor.optionsSchema.properties ?? {}) as Record<string, { existingPath?: boolean }>;
  const options: Record<string, unknown> = { ...step.options };
  for (const [name, value] of Object.entries(options)) {
    if (properties[name]?.existingPath === true && typeof value === 'string') options[name] = path.resolve(loaded.baseDirectory, value);
  }
  return { kind, id: descriptor.id, version: descriptor.version, options: redactSecrets(options, loaded.secrets) };
}
