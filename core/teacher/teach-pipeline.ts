import path from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { createStepInstance } from '../config/create-step-instance.js';
import { createRootContainer, createRunContainer, pluginDependencies } from '../container/root-container.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import type { Clock } from '../services/clock.js';
import type { EventListener } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import type { Logger } from '../services/logger.js';
import { resolveCachePath } from './cache-location.js';
import { missingCacheNote, writeCacheUseNote } from './cache-use-notes.js';
import { runTeachStage, type TeachSplit } from './teach-stage.js';
import { TeacherCache } from './teacher-cache.js';
import type { TeacherReport } from './teacher-report.js';

/** The roles a pipeline's dataset splits play. */
export type SplitRole = 'train' | 'validation' | 'test';

/** Options of {@link teachPipeline}. */
export interface TeachPipelineOptions {
  /** Roles to label (default: train only; the validation role exists only when the pipeline names a split for it). */
  readonly roles?: readonly SplitRole[];
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Receives every event of the run (`teacher.*`): the progress bar, `--json`. */
  readonly listener?: EventListener;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly httpSettings?: HttpSettings;
  readonly logger?: Logger;
  /** Folder for the records and report: the runner's teacher stage folder. */
  readonly directory: string;
  /**
   * The run's plugin dependencies, when the caller (the runner) already has a run container; the
   * `environment`, `signal`, `clock`, `httpSettings` and `logger` options are then not used.
   */
  readonly dependencies?: PluginDependencies;
}

/** What {@link teachPipeline} produced. */
export interface TeachPipelineResult {
  readonly report: TeacherReport;
  readonly outputFile: string;
  readonly reportFile: string;
  /** The cache used, or null when disabled or not needed (recorded answers). */
  readonly cacheFile: string | null;
}

/** The dataset splits for the asked roles, with the pipeline's limits. */
export function splitsForRoles(loaded: LoadedPipeline, roles: readonly SplitRole[]): TeachSplit[] {
  const { splits, limit } = loaded.config.dataset;
  const chosen: TeachSplit[] = [];
  for (const role of roles) {
    const split = splits[role];
    if (split === undefined) continue; // validation held out of train: train's records cover it
    if (chosen.some((each) => each.split === split)) continue;
    chosen.push({ split, limit: limit[role] });
  }
  return chosen;
}

/**
 * Runs the teacher stage of a loaded pipeline: creates its dataset, prompt, parser and teacher (and
 * the first evaluator, which decides what counts as a correct teacher label), opens the shared
 * cache, and labels the asked splits into `teacher-records.jsonl` in `options.directory`
 * with `teacher-report.json` beside it.
 */
export async function teachPipeline(loaded: LoadedPipeline, options: TeachPipelineOptions): Promise<TeachPipelineResult> {
  const { config } = loaded;
  let run: DependencyContainer | null = null;
  let dependencies = options.dependencies;
  if (!dependencies) {
    const root = createRootContainer({
      registry: loaded.registry,
      environment: options.environment ?? process.env,
      clock: options.clock,
      httpSettings: options.httpSettings,
      logger: options.logger,
    });
    run = createRunContainer(root, { baseDirectory: loaded.baseDirectory, signal: options.signal ?? new AbortController().signal });
    dependencies = pluginDependencies(run);
  }
  const environment = dependencies.environment;
  const unsubscribe = options.listener ? dependencies.events.subscribe(options.listener) : () => undefined;
  let cache: TeacherCache | null = null;
  try {
    const dataset = await createStepInstance(loaded, 'dataset', config.dataset, dependencies);
    const prompt = await createStepInstance(loaded, 'prompt', config.prompt, dependencies);
    const parser = await createStepInstance(loaded, 'parser', config.parser, dependencies);
    const teacher = await createStepInstance(loaded, 'teacher', config.teacher, dependencies);
    const evaluatorStep = config.evaluators[0];
    const evaluator = evaluatorStep ? await createStepInstance(loaded, 'evaluator', evaluatorStep, dependencies) : null;
    const descriptor = loaded.registry.get('teacher', config.teacher.use);

    const cacheFile =
      config.cache.enabled && teacher.cacheable
        ? resolveCachePath({ configuredPath: config.cache.path, baseDirectory: loaded.baseDirectory, environment })
        : null;
    const missing = cacheFile ? missingCacheNote(options.directory, cacheFile) : null;
    if (missing) {
      dependencies.events.emit('teacher.cache_missing', { file: missing.file, entries: missing.entries, noted_at: missing.at });
    }
    cache = cacheFile ? TeacherCache.open(cacheFile) : null;
    const directory = options.directory;
    const outputFile = path.join(directory, 'teacher-records.jsonl');
    const reportFile = path.join(directory, 'teacher-report.json');
    const report = await runTeachStage({
      dataset,
      prompt,
      parser,
      teacher,
      teacherPluginId: descriptor.id,
      teacherPluginVersion: descriptor.version,
      splits: splitsForRoles(loaded, options.roles ?? ['train']),
      limits: {
        concurrency: config.teacher.limits.concurrency ?? 8,
        requestsPerMinute: config.teacher.limits.requests_per_minute,
        tokensPerMinute: config.teacher.limits.tokens_per_minute,
        maxRetries: config.teacher.limits.max_retries,
        maxRetryAfterMilliseconds: config.teacher.limits.max_retry_after_seconds * 1000,
      },
      maxFailureRate: config.teacher.max_failure_rate,
      budget: config.budget,
      prices: config.prices,
      cache,
      outputFile,
      reportFile,
      events: dependencies.events,
      signal: dependencies.signal,
      clock: dependencies.clock,
      httpSettings: dependencies.httpSettings,
      // The teacher's own timeout (an SDK's) fires first; the engine's is the backstop.
      timeoutMilliseconds:
        teacher.timeoutMilliseconds !== undefined
          ? Math.max(dependencies.httpSettings.timeoutMilliseconds, teacher.timeoutMilliseconds + 1000)
          : undefined,
      labelsMatch: evaluator ? (predicted, gold) => evaluator.score(predicted, gold) >= 1 : undefined,
    });
    if (cache) writeCacheUseNote(directory, cache.file, cache.statistics().entries, new Date(dependencies.clock.now()));
    return { report, outputFile, reportFile, cacheFile };
  } finally {
    unsubscribe();
    cache?.close();
    await run?.dispose();
  }
}
