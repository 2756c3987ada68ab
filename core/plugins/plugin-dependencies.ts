import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import type { Logger } from '../services/logger.js';

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
}
