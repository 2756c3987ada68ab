import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { NoFollowAppender, writeFileNoFollow } from '../files/no-follow-files.js';
import { provenanceComment } from '../config/environment-file.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { pluginSteps, type PluginStep } from '../config/pipeline-config.js';
import { redactText } from '../config/redact.js';
import type { EventStream } from '../services/event-stream.js';
import { lockfileName, type LockedRecipe } from './recipe-lock.js';
import type { StageDefinition } from './stage-definition.js';
import { stepIdentity, type StepIdentity } from './step-identity.js';

/** Event types that belong in `metrics.jsonl` (the rest go to `events.jsonl` only). */
const metricEventTypes = new Set(['teacher.progress', 'teacher.done', 'train.progress', 'train.evaluation', 'train.data', 'stage.done']);

/** Every plugin step of a pipeline, as the lockfile lists it. */
export function pipelinePlugins(loaded: LoadedPipeline): StepIdentity[] {
  const identities: StepIdentity[] = [];
  for (const { pointer, kind, list } of pluginSteps) {
    const value = (loaded.config as unknown as Record<string, unknown>)[pointer.slice(1)];
    if (value === undefined) continue;
    const steps = (list ? value : [value]) as PluginStep[];
    for (const step of steps) identities.push(stepIdentity(loaded, kind, step));
  }
  return identities;
}

/** What `distill.lock.json` pins: enough to tell whether two runs could have produced the same model. */
export interface RunLockfile {
  readonly pipeline: string;
  readonly createdAt: string;
  readonly distill: string;
  readonly node: string;
  readonly plugins: readonly { kind: string; id: string; version: string }[];
  readonly teacherModel: unknown;
  readonly promptTemplateHash: unknown;
  readonly dataFiles: unknown;
  readonly worker: Record<string, string | null>;
  /** Stage signatures of this run. */
  readonly stages: Record<string, string>;
  /** The `--set` overrides the run was started with, in order (secrets redacted). */
  readonly overrides: readonly string[];
  /** The `.env` file read into the environment, with the names of the variables it set; null when none. */
  readonly environmentFile: { readonly file: string; readonly variables: readonly string[] } | null;
  /**
   * Every inherited file that came from an installed recipe package, nearest first: package, version,
   * file, sha256 of its bytes and the run folder's copy of it (`[]` when the pipeline inherits none).
   */
  readonly recipes: readonly LockedRecipe[];
}

/**
 * Writes the run's records at its start: the resolved configuration with secrets redacted, and the
 * event and metric logs, appended to as the run goes (events carry no secrets, but log text is
 * redacted anyway). Returns a function that stops logging.
 */
export function startRunRecords(loaded: LoadedPipeline, runDirectory: string, events: EventStream): () => void {
  mkdirSync(runDirectory, { recursive: true });
  writeFileNoFollow(
    path.join(runDirectory, 'config.resolved.yaml'),
    `# ${path.basename(loaded.file)} with extends merged, variables filled and secrets redacted\n` +
      redactText(
        provenanceComment(
          loaded.overrides.map((override) => override.argument),
          loaded.environmentFile,
        ),
        loaded.secrets,
      ) +
      stringify(loaded.redactedConfig),
  );
  const eventsFile = new NoFollowAppender(path.join(runDirectory, 'events.jsonl'));
  const metricsFile = new NoFollowAppender(path.join(runDirectory, 'metrics.jsonl'));
  const unsubscribe = events.subscribe((event) => {
    const line = redactText(JSON.stringify(event), loaded.secrets) + '\n';
    eventsFile.append(line);
    if (metricEventTypes.has(event.type)) metricsFile.append(line);
  });
  return () => {
    unsubscribe();
    eventsFile.close();
    metricsFile.close();
  };
}

/** Writes `distill.lock.json` once the stages and their signatures are known. */
export function writeLockfile(
  loaded: LoadedPipeline,
  runDirectory: string,
  stages: readonly StageDefinition[],
  signatures: Record<string, string>,
  worker: Record<string, string | null>,
  distillVersion: string,
  recipes: readonly LockedRecipe[],
): RunLockfile {
  const inputsOf = (name: string) => stages.find((stage) => stage.name === name)?.inputs as Record<string, unknown> | undefined;
  const teacherInputs = inputsOf('teacher');
  const teacherOptions = (teacherInputs?.teacher as StepIdentity | undefined)?.options as Record<string, unknown> | undefined;
  const lockfile: RunLockfile = {
    pipeline: path.basename(loaded.file),
    createdAt: new Date().toISOString(),
    distill: distillVersion,
    node: process.version,
    plugins: pipelinePlugins(loaded).map(({ kind, id, version }) => ({ kind, id, version })),
    teacherModel: teacherOptions?.model ?? null,
    promptTemplateHash: (teacherInputs?.prompt as { templateHash?: string } | undefined)?.templateHash,
    dataFiles: inputsOf('dataset')?.files,
    worker,
    stages: signatures,
    overrides: loaded.overrides.map((override) => redactText(override.argument, loaded.secrets)),
    environmentFile: loaded.environmentFile,
    recipes,
  };
  writeFileNoFollow(path.join(runDirectory, lockfileName), JSON.stringify(lockfile, null, 2) + '\n');
  return lockfile;
}
