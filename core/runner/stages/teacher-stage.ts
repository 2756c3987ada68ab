import path from 'node:path';
import { resolveCachePath } from '../../teacher/cache-location.js';
import { missingCacheNote, writeCacheUseNote } from '../../teacher/cache-use-notes.js';
import { runTeachStage, type TeachSplit, type TeachStageInput } from '../../teacher/teach-stage.js';
import { splitsForRoles } from '../../teacher/teach-pipeline.js';
import type { TeacherCache } from '../../teacher/teacher-cache.js';
import type { TeacherReport } from '../../teacher/teacher-report.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';

/** The run's teacher cache for this pipeline (its use noted in `directory`), or null when it is off or the teacher's answers need none. */
function openCache(context: PipelineContext, stage: StageContext, directory: string, cacheable: boolean): TeacherCache | null {
  const { loaded, caches, instances } = context;
  const { cache } = loaded.config;
  if (!cache.enabled || !cacheable) return null;
  const file = resolveCachePath({
    configuredPath: cache.path,
    baseDirectory: loaded.baseDirectory,
    environment: instances.dependencies.environment,
  });
  const missing = missingCacheNote(directory, file);
  if (missing) stage.events.emit('teacher.cache_missing', { file: missing.file, entries: missing.entries, noted_at: missing.at });
  return caches.open(file);
}

/** What {@link askTeacher} labels, and where its records go. */
export interface TeacherAsk {
  readonly splits: readonly TeachSplit[];
  /** Folder of `teacher-records.jsonl` and `teacher-report.json` (a stage's folder, or one inside it). */
  readonly directory: string;
  /** The budget left for these answers (default: the pipeline's). */
  readonly budget?: TeachStageInput['budget'];
}

/**
 * Labels the asked splits into `teacher-records.jsonl` in the ask's folder, with `teacher-report.json`
 * beside it: through the run's cache and request engine, each answer stored before it is parsed. The
 * teacher stage asks for the training roles; the evaluate stage asks for the test split
 * (`evaluation.teacher_on_test`).
 */
export async function askTeacher(context: PipelineContext, stage: StageContext, ask: TeacherAsk): Promise<TeacherReport> {
  const { loaded, instances } = context;
  const { config } = loaded;
  const [dataset, prompt, parser, teacher] = await Promise.all([
    instances.of(loaded, 'dataset', config.dataset),
    instances.prompt(loaded),
    instances.of(loaded, 'parser', config.parser),
    instances.of(loaded, 'teacher', config.teacher),
  ]);
  // The first evaluator decides what counts as a correct teacher label in the report.
  const evaluator = config.evaluators[0] ? await instances.of(loaded, 'evaluator', config.evaluators[0]) : null;
  const descriptor = loaded.registry.get('teacher', config.teacher.use);
  const cache = openCache(context, stage, ask.directory, teacher.cacheable);
  const { clock, httpSettings } = instances.dependencies;
  const report = await runTeachStage({
    dataset,
    prompt,
    parser,
    teacher,
    teacherPluginId: descriptor.id,
    teacherPluginVersion: descriptor.version,
    splits: ask.splits,
    limits: {
      concurrency: config.teacher.limits.concurrency,
      requestsPerMinute: config.teacher.limits.requests_per_minute,
      tokensPerMinute: config.teacher.limits.tokens_per_minute,
      maxRetries: config.teacher.limits.max_retries,
      maxRetryAfterMilliseconds: config.teacher.limits.max_retry_after_seconds * 1000,
    },
    maxFailureRate: config.teacher.max_failure_rate,
    mode: config.teacher.mode,
    batch: config.teacher.batch,
    samples: config.teacher.samples,
    budget: ask.budget ?? config.budget,
    prices: config.prices,
    cache,
    outputFile: path.join(ask.directory, 'teacher-records.jsonl'),
    reportFile: path.join(ask.directory, 'teacher-report.json'),
    events: stage.events,
    signal: stage.signal,
    clock,
    httpSettings,
    // The teacher's own timeout (an SDK's) fires first; the engine's is the backstop.
    timeoutMilliseconds:
      teacher.timeoutMilliseconds !== undefined
        ? Math.max(httpSettings.timeoutMilliseconds, teacher.timeoutMilliseconds + 1000)
        : undefined,
    labelsMatch: evaluator ? (predicted, gold) => evaluator.score(predicted, gold) >= 1 : undefined,
  });
  if (cache) writeCacheUseNote(ask.directory, cache.file, cache.statistics().entries, new Date(clock.now()));
  return report;
}

/**
 * The teacher stage: asks the teacher for a label and rationale per example of the asked roles' splits,
 * through the shared cache. Stopped (a budget, a cancel, failures above `teacher.max_failure_rate`) it
 * is not stored, and the next run resumes it; with failures within the rate it is partial.
 */
export async function teacherStage(context: PipelineContext): Promise<StageDefinition<'teacher'>> {
  const { loaded, instances } = context;
  const { config } = loaded;
  const prompt = await instances.prompt(loaded);
  return {
    name: 'teacher',
    inputs: {
      teacher: stepIdentity(loaded, 'teacher', config.teacher),
      prompt: { ...stepIdentity(loaded, 'prompt', config.prompt), templateHash: prompt.templateHash },
      parser: stepIdentity(loaded, 'parser', config.parser),
      evaluator: config.evaluators[0] ? stepIdentity(loaded, 'evaluator', config.evaluators[0]) : null,
      roles: context.teacherRoles,
      // Only when several answers are asked, so that the runs made before `teacher.samples` existed keep their signatures.
      ...(config.teacher.samples > 1 ? { samples: config.teacher.samples } : {}),
    },
    run: (stage) => askTeacher(context, stage, { splits: splitsForRoles(loaded, context.teacherRoles), directory: stage.stageDirectory }),
    complete: (report) => report.stopped === null,
    // Failures within the rate: training goes on without them, and the next run asks them again.
    partial: (report) => (report.failed > 0 ? report.failed_digest : null),
  };
}
