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

/** The schema of one option, as far as path options go. */
interface PathOptionSchema {
  readonly existingPath?: boolean;
  readonly additionalProperties?: unknown;
}

/**
 * The folder that path options are written relative to in signatures: that of the recipe at the end
 * of the pipeline's `extends` chain (the pipeline's own when it extends nothing). It moves with a
 * project that is copied or moved, and it is the same for every pipeline that extends one recipe
 * from wherever it lies (a variant in another folder reaches the recipe's data by another relative
 * path, but it is the same data).
 */
export function signatureAnchor(loaded: Pick<LoadedPipeline, 'file' | 'sourceFiles'>): string {
  return path.dirname(loaded.sourceFiles.at(-1) ?? loaded.file);
}

/**
 * A path option as a signature sees it: relative to the {@link signatureAnchor}, with `/` separators,
 * when it was written relative (the loader has already made paths of extended files relative to the
 * pipeline's folder, `baseDirectory`), so that a project copied or moved with its data keeps every
 * signature; an absolute path stays absolute, since it names a place outside the project.
 */
export function portablePath(baseDirectory: string, anchor: string, value: string): string {
  if (path.isAbsolute(value)) return path.normalize(value);
  return (path.relative(anchor, path.resolve(baseDirectory, value)) || '.').split(path.sep).join('/');
}

/**
 * The identity of a step for stage signatures and the lockfile. Secret values are replaced by a
 * marker, so rotating an API key neither reruns a stage nor lands in a file. Options the plugin's
 * schema marks `existingPath` (directly, or as the values of an object such as a split → file map)
 * are written as {@link portablePath}s: never the absolute place of a project, which a copy changes.
 */
export function stepIdentity(loaded: LoadedPipeline, kind: PluginKind, step: PluginStep): StepIdentity {
  const descriptor = loaded.registry.get(kind, step.use);
  const properties = (descriptor.optionsSchema.properties ?? {}) as Record<string, PathOptionSchema | undefined>;
  const anchor = signatureAnchor(loaded);
  const portable = (value: unknown) => (typeof value === 'string' ? portablePath(loaded.baseDirectory, anchor, value) : value);
  const options: Record<string, unknown> = { ...step.options };
  for (const [name, value] of Object.entries(options)) {
    const schema = properties[name];
    if (schema?.existingPath === true) options[name] = portable(value);
    const values = schema?.additionalProperties as PathOptionSchema | undefined;
    if (values?.existingPath === true && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      options[name] = Object.fromEntries(Object.entries(value).map(([key, each]) => [key, portable(each)]));
    }
  }
  return { kind, id: descriptor.id, version: descriptor.version, options: redactSecrets(options, loaded.secrets) };
}
