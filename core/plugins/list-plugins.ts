import type { JsonSchema } from './json-schema.js';
import { pluginKinds } from './plugin-kind.js';
import type { PluginRegistry } from './plugin-registry.js';

/** One row of `distill plugins`. */
export interface PluginListing {
  readonly kind: string;
  readonly id: string;
  readonly version: string;
  readonly summary: string;
  /** Option names, required ones marked with `*`. */
  readonly options: string[];
}

function optionNames(schema: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.keys(properties).map((name) => (required.has(name) ? `${name}*` : name));
}

/** The registry's plugins in kind order, for `distill plugins`. */
export function listPlugins(registry: PluginRegistry): PluginListing[] {
  return pluginKinds.flatMap((kind) =>
    registry.list(kind).map((descriptor) => ({
      kind,
      id: descriptor.id,
      version: descriptor.version,
      summary: descriptor.summary,
      options: optionNames(descriptor.optionsSchema),
    })),
  );
}
