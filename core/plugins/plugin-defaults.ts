import type { PluginStep } from '../config/pipeline-config.js';

/**
 * The steps used where a pipeline, or a command run without one, names no plugin. They name
 * plugins, so core never writes them: the composition root (the CLI, the library entry) gives them
 * to core with the registry. Each is optional; a default that is missing, or names a plugin the
 * registry lacks, is reported where it is needed.
 */
export interface PluginDefaults {
  /** The loss weight of a pipeline without a `loss` step. */
  readonly loss?: PluginStep;
  /** The evaluators of a pipeline without `evaluators`. */
  readonly evaluators?: readonly PluginStep[];
  /** The exporter of `distill export`, which runs without a pipeline. */
  readonly exporter?: PluginStep;
}
