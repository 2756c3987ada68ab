import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import type { Logger } from '../services/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ChildProcesses } from '../services/child-processes.js';
import type { TeacherCaches } from '../teacher/teacher-caches.js';
import { serviceToken } from './service-token.js';

/** Shared services in the root container. */
export const loggerToken = serviceToken<Logger>('Logger');
export const clockToken = serviceToken<Clock>('Clock');
export const httpSettingsToken = serviceToken<HttpSettings>('HttpSettings');
export const pluginRegistryToken = serviceToken<PluginRegistry>('PluginRegistry');
/** Environment variables the run sees (tests inject their own). */
export const environmentToken = serviceToken<Readonly<Record<string, string | undefined>>>('Environment');

/** Per-run services in a run's child container. */
export const eventStreamToken = serviceToken<EventStream>('EventStream');
export const abortSignalToken = serviceToken<AbortSignal>('AbortSignal');
export const baseDirectoryToken = serviceToken<string>('BaseDirectory');
/** The run's open teacher caches, closed when the run container is disposed. */
export const teacherCachesToken = serviceToken<TeacherCaches>('TeacherCaches');
/** The run's child processes, stopped when the run container is disposed. */
export const childProcessesToken = serviceToken<ChildProcesses>('ChildProcesses');
