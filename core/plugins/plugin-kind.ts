/**
 * The kinds of plugin a pipeline is assembled from, in the order data flows through them.
 * Each kind has one small, versioned contract in `core/plugins/kinds/`.
 */
export const pluginKinds = [
  'dataset',
  'teacher',
  'prompt',
  'parser',
  'sampler',
  'loss-weight',
  'trainer',
  'evaluator',
  'exporter',
] as const;

/** One of {@link pluginKinds}. */
export type PluginKind = (typeof pluginKinds)[number];

/** Whether a value names a plugin kind. */
export function isPluginKind(value: unknown): value is PluginKind {
  return typeof value === 'string' && (pluginKinds as readonly string[]).includes(value);
}
