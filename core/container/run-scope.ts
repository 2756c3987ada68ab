import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { EventListener } from '../services/event-stream.js';
import type { TeacherCaches } from '../teacher/teacher-caches.js';
import type { RootServices } from './root-container.js';

/** What a run is set up with: the root's shared services and the run's own folder, signal and listener. */
export interface RunScopeOptions extends RootServices {
  /** Folder of the pipeline file; relative paths resolve against it. */
  readonly baseDirectory: string;
  /** Aborted to stop the run (Ctrl+C); a signal nobody aborts when absent. */
  readonly signal?: AbortSignal;
  /** Receives every event of the run (the progress display, `--json`). */
  readonly listener?: EventListener;
}

/** What the body of {@link withRun} works with. */
export interface RunScope {
  /** What plugins receive in `create`, read from the run's container. */
  readonly dependencies: PluginDependencies;
  /** The run's teacher caches (closed when the run ends). */
  readonly caches: TeacherCaches;
}

/**
 * The one way a run is set up and torn down: a root container with the shared services, a child
 * container for the run, the listener subscribed; then `body`; then, whatever happened (a result, an
 * error, a cancel), the listener unsubscribed and the run's container disposed, which closes its
 * teacher caches and stops its child processes.
 */
export async function withRun<Result>(options: RunScopeOptions, body: (scope: RunScope) => Promise<Result>): Promise<Result> {
  // The container is imported here, on first use, not with the library: tsyringe needs the global
  // `Reflect` metadata polyfill, which an application that only loads a student should not get.
  const { createRootContainer, createRunContainer, pluginDependencies, runTeacherCaches } = await import('./root-container.js');
  const root = createRootContainer(options);
  const run = createRunContainer(root, { baseDirectory: options.baseDirectory, signal: options.signal ?? new AbortController().signal });
  const dependencies = pluginDependencies(run);
  const unsubscribe = options.listener ? dependencies.events.subscribe(options.listener) : () => undefined;
  try {
    return await body({ dependencies, caches: runTeacherCaches(run) });
  } finally {
    unsubscribe();
    await run.dispose();
  }
}
