// tsyringe refuses to load without the `Reflect` metadata polyfill. Only this module imports it, and
// only `withRun` imports this module, on first use: importing the library leaves `Reflect` alone.
import 'reflect-metadata';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { systemClock, type Clock } from '../services/clock.js';
import { LocalEventStream } from '../services/event-stream.js';
import { defaultHttpSettings, type HttpSettings } from '../services/http-settings.js';
import { StreamLogger, type Logger } from '../services/logger.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { ChildProcesses } from '../services/child-processes.js';
import { TeacherCaches } from '../teacher/teacher-caches.js';
import { registerDisposable, registerService, resolveService } from './service-token.js';
import {
  abortSignalToken,
  baseDirectoryToken,
  childProcessesToken,
  clockToken,
  environmentToken,
  eventStreamToken,
  httpSettingsToken,
  loggerToken,
  pluginRegistryToken,
  teacherCachesToken,
} from './tokens.js';

/** Shared services for a root container; anything left out gets its default. */
export interface RootServices {
  readonly registry: PluginRegistry;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly httpSettings?: HttpSettings;
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/**
 * A root container holding stateless shared services. It is a child of tsyringe's global container
 * so that two roots (two tests, two embedded uses) never see each other's registrations.
 */
export function createRootContainer(services: RootServices): DependencyContainer {
  const root = globalContainer.createChildContainer();
  registerService(root, pluginRegistryToken, services.registry);
  registerService(root, loggerToken, services.logger ?? new StreamLogger());
  registerService(root, clockToken, services.clock ?? systemClock);
  registerService(root, httpSettingsToken, services.httpSettings ?? defaultHttpSettings);
  registerService(root, environmentToken, services.environment ?? process.env);
  return root;
}

/** Per-run settings of a run container. */
export interface RunScope {
  /** Folder of the pipeline file. */
  readonly baseDirectory: string;
  readonly signal: AbortSignal;
}

/**
 * A child container for one run, holding its event stream, cancellation signal and base folder, and
 * the services that hold resources: the open teacher caches and the child processes. Dispose it
 * (`await container.dispose()`, or use `withRun`) when the run ends: the caches are closed and the
 * processes stopped then.
 */
export function createRunContainer(root: DependencyContainer, scope: RunScope): DependencyContainer {
  const run = root.createChildContainer();
  const clock = resolveService(root, clockToken);
  registerService(run, eventStreamToken, new LocalEventStream(() => clock.now()));
  registerService(run, abortSignalToken, scope.signal);
  registerService(run, baseDirectoryToken, scope.baseDirectory);
  registerDisposable(run, teacherCachesToken, TeacherCaches);
  registerDisposable(run, childProcessesToken, ChildProcesses);
  return run;
}

/** What a plugin's `create` receives, read from a run container. */
export function pluginDependencies(run: DependencyContainer): PluginDependencies {
  return {
    logger: resolveService(run, loggerToken),
    clock: resolveService(run, clockToken),
    httpSettings: resolveService(run, httpSettingsToken),
    events: resolveService(run, eventStreamToken),
    baseDirectory: resolveService(run, baseDirectoryToken),
    environment: resolveService(run, environmentToken),
    signal: resolveService(run, abortSignalToken),
    processes: resolveService(run, childProcessesToken),
  };
}

/** The teacher caches of a run container (opened on demand, closed when the container is disposed). */
export function runTeacherCaches(run: DependencyContainer): TeacherCaches {
  return resolveService(run, teacherCachesToken);
}
