import type { AnyPluginDescriptor } from '../../core/plugins/plugin-descriptor.js';
import type { PluginDependencies } from '../../core/plugins/plugin-dependencies.js';
import type { PluginKind } from '../../core/plugins/plugin-kind.js';
import { systemClock } from '../../core/services/clock.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../core/services/http-settings.js';
import { MemoryLogger } from '../../core/services/logger.js';
import { builtinPlugins } from '../../plugins/builtin-plugins.js';
import { repositoryRoot } from './bench-paths.js';

/** Plugin dependencies for a bench: the real clock and HTTP settings, a quiet logger, the process environment. */
export function benchDependencies(overrides: Partial<PluginDependencies> = {}): PluginDependencies {
  return {
    logger: new MemoryLogger(),
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    events: new LocalEventStream(),
    baseDirectory: repositoryRoot,
    environment: process.env,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/**
 * A built-in plugin's descriptor, taken from the one list of built-ins, so benches measure the
 * plugins a pipeline would get and not copies of them.
 */
export function builtinDescriptor(kind: PluginKind, id: string): AnyPluginDescriptor {
  const descriptor = builtinPlugins.find((candidate) => candidate.kind === kind && candidate.id === id);
  if (!descriptor) throw new Error(`no built-in ${kind} plugin "${id}"`);
  return descriptor;
}
