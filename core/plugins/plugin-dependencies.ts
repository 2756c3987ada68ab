import { ChildProcesses } from '../services/child-processes.js';
import { systemClock, type Clock } from '../services/clock.js';
import { LocalEventStream, type EventStream } from '../services/event-stream.js';
import { defaultHttpSettings, type HttpSettings } from '../services/http-settings.js';
import { MemoryLogger, type Logger } from '../services/logger.js';

/**
 * The shared services a plugin receives in `create(options, dependencies)`. Plugins never reach into
 * the container themselves: what they may use is exactly this list.
 */
export interface PluginDependencies {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly httpSettings: HttpSettings;
  readonly events: EventStream;
  /** Folder of the pipeline file; relative paths in options resolve against it. */
  readonly baseDirectory: string;
  /** Environment variables as seen by this run (tests pass their own). */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Aborted when the run is cancelled (Ctrl+C, budget reached). */
  readonly signal: AbortSignal;
  /** Where a plugin registers the processes it starts, so that none outlives its run. */
  readonly processes: ChildProcesses;
}

/**
 * Dependencies for a plugin created outside a pipeline run (a script, a test, a benchmark): the
 * system clock, the default HTTP settings, a logger that keeps its lines in memory, an event stream
 * of its own, a signal nobody aborts, and a process list nobody disposes (the caller may).
 * `baseDirectory` and `environment` are the caller's to say.
 */
export function standalonePluginDependencies(
  required: Pick<PluginDependencies, 'baseDirectory' | 'environment'> & Partial<PluginDependencies>,
): PluginDependencies {
  return {
    logger: new MemoryLogger(),
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    events: new LocalEventStream(),
    signal: new AbortController().signal,
    processes: new ChildProcesses(),
    ...required,
  };
}
