import { fileURLToPath } from 'node:url';
import { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from '../config/load-pipeline.js';
import { UserError } from '../errors/user-error.js';

/**
 * What {@link runPipeline} runs: the path of a pipeline file (a string, or a `file:` URL such as
 * `new URL('./pipeline.yaml', import.meta.url)`), or the pipeline {@link loadPipeline} returned.
 */
export type PipelineSource = string | URL | LoadedPipeline;

/**
 * Whether a value is what {@link loadPipeline} returns. Checked by shape, not by class, since a loaded
 * pipeline is a plain object; the registry is checked for what the run calls on it, so that a
 * registry from another copy of the package still passes.
 */
function isLoadedPipeline(value: unknown): value is LoadedPipeline {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof LoadedPipeline, unknown>>;
  const registry = candidate.registry as { get?: unknown; list?: unknown } | null | undefined;
  return (
    typeof candidate.file === 'string' &&
    typeof candidate.baseDirectory === 'string' &&
    typeof candidate.config === 'object' &&
    candidate.config !== null &&
    Array.isArray(candidate.sourceFiles) &&
    typeof registry?.get === 'function' &&
    typeof registry.list === 'function'
  );
}

/** A few words on what was given instead, for the message: `a number`, `null`, `an object with keys a, b`. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing (undefined)';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof URL) return `the URL ${value.href}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).slice(0, 6);
    return keys.length > 0 ? `an object with the keys ${keys.join(', ')}` : 'an empty object';
  }
  return `${/^[aeiou]/.test(typeof value) ? 'an' : 'a'} ${typeof value}`;
}

/**
 * The loaded pipeline a run starts from: `pipeline` itself when it is already loaded (it keeps the
 * `${VAR}` values and the registry it was loaded with), else the file read and validated against
 * `options`. Anything else is a {@link UserError} saying what was given and what to pass, never
 * Node's bare `ERR_INVALID_ARG_TYPE`.
 */
export async function pipelineToRun(pipeline: unknown, options: LoadPipelineOptions): Promise<LoadedPipeline> {
  if (typeof pipeline === 'string') return loadPipeline(pipeline, options);
  if (pipeline instanceof URL && pipeline.protocol === 'file:') return loadPipeline(fileURLToPath(pipeline), options);
  if (isLoadedPipeline(pipeline)) return pipeline;
  throw new UserError({
    message: `runPipeline needs the path of a pipeline file or the pipeline that loadPipeline returned, and was given ${describeValue(pipeline)}`,
    fix: "pass a path (`runPipeline('pipelines/quickstart.yaml')`), a file URL, or `await loadPipeline(path)`",
  });
}
