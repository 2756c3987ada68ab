import type { PluginDependencies } from '../../core/plugins/plugin-dependencies.js';
import { systemClock } from '../../core/services/clock.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../core/services/http-settings.js';
import { MemoryLogger } from '../../core/services/logger.js';

/** Plugin dependencies for a test: a memory logger, the given environment (empty by default), no real secrets. */
export function testDependencies(overrides: Partial<PluginDependencies> = {}): PluginDependencies {
  return {
    logger: new MemoryLogger(),
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    events: new LocalEventStream(),
    baseDirectory: process.cwd(),
    environment: {},
    signal: new AbortController().signal,
    ...overrides,
  };
}
