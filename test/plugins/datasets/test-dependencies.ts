import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { ChildProcesses } from '../../../core/services/child-processes.js';
import { systemClock } from '../../../core/services/clock.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { MemoryLogger } from '../../../core/services/logger.js';

/**
 * The dependencies a plugin's `create` receives, for tests of the dataset, prompt, parser and
 * recorded-teacher plugins: real services, a chosen folder, and an environment the test controls
 * (never the process's own, so `DISTILL_DSBS_DIR` on a developer machine cannot change a result).
 */
export function testDependencies(baseDirectory: string, environment: Record<string, string | undefined> = {}): PluginDependencies {
  return {
    logger: new MemoryLogger(),
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    events: new LocalEventStream(),
    baseDirectory,
    environment,
    signal: new AbortController().signal,
    processes: new ChildProcesses(),
  };
}
