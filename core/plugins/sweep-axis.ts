import type { SweepGrid } from '../config/pipeline-config.js';

/**
 * The axes of a pipeline's `sweep:` block that plugins own, in the order a sweep point writes their
 * steps. `seed` and `mode` are the pipeline's own: no plugin owns them.
 */
export const pluginSweepAxes = [
  'data_fraction',
  'rationale_rate',
  'alpha',
  'min_confidence',
] as const satisfies readonly (keyof SweepGrid)[];

/** One of {@link pluginSweepAxes}. */
export type PluginSweepAxisName = (typeof pluginSweepAxes)[number];

/**
 * A `sweep:` axis declared by the plugin whose option it varies: each point of the sweep gets a
 * step of this plugin with `option` set to the axis value (a list step such as a sampler goes after
 * the pipeline's other steps of its kind; a single step such as the loss weight replaces the
 * pipeline's). The sweep code finds the owner of an axis through the registry, never by id.
 */
export interface SweepAxis {
  /** The key under `sweep:` that lists the values. */
  readonly name: PluginSweepAxisName;
  /** The option of this plugin that each value is written to. */
  readonly option: string;
  /**
   * The value a pipeline trains with when it has no step of this plugin, or its step leaves the
   * option out: what a sweep point keeps when the grid does not list the axis.
   */
  readonly unsetValue: number;
  /**
   * A value at which the step would change nothing and is left out of the point's pipeline (a data
   * fraction of 1 keeps every example). Absent: the step is always written.
   */
  readonly omittedAt?: number;
}
