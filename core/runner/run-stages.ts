import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { canonicalHash } from '../canonical-json.js';
import { UserError } from '../errors/user-error.js';
import type { EventStream } from '../services/event-stream.js';
import type { StageDefinition } from './stage-definition.js';
import type { StageName } from './stage-name.js';
import { readStageRecord, writeStageRecord, type StageRecord } from './stage-record.js';

/** How much of the pipeline to run. */
export interface RunStagesOptions {
  readonly runDirectory: string;
  readonly events: EventStream;
  readonly signal: AbortSignal;
  /** Run only this stage (recomputed); the stages before it must have stored outputs. */
  readonly only?: StageName;
  /** Recompute this stage and every later one, even where stored outputs match. */
  readonly from?: StageName;
  /** Stop after this stage (the stages before it run or are reused as usual). */
  readonly until?: StageName;
  /**
   * Stages that must already be stored: a missing one is a {@link UserError} with this fix, rather
   * than computed (`distill train` never pays the teacher by surprise).
   */
  readonly requireStored?: { readonly stages: readonly StageName[]; readonly fix: string };
  /** Clock for the records' times (tests inject one). */
  readonly now?: () => Date;
}

/** What happened to each stage. */
export interface StageOutcome {
  readonly stage: StageName;
  readonly signature: string;
  readonly directory: string;
  /**
   * `stopped`: the stage ended without finishing (a budget, a cancel) and left no record; no later
   * stage ran. `partial`: it finished without part of its work (see {@link StageDefinition.partial}) and
   * left no record; later stages ran on it.
   */
  readonly status: 'reused' | 'computed' | 'stopped' | 'partial';
  readonly record: StageRecord;
}

/**
 * The signature of each stage: the hash of its inputs and of the signature before it, so a change
 * anywhere upstream reaches every later stage.
 */
export function stageSignatures(stages: readonly StageDefinition[]): string[] {
  let previous = '';
  return stages.map((stage) => (previous = stageSignature(stage, previous)));
}

/** One stage's signature after `upstream`, the signature before it (as the next stage sees it). */
function stageSignature(stage: StageDefinition, upstream: string): string {
  return canonicalHash({ stage: stage.name, inputs: stage.inputs, upstream });
}

/** Folder of a stage's output for one signature. */
export function stageDirectory(runDirectory: string, stage: StageName, signature: string): string {
  return path.join(runDirectory, 'stages', stage, signature.slice(0, 16));
}

/**
 * Runs stages in order, reusing each one whose signature already has a finished record in the run
 * directory. A stage killed half way has no record, so the next run calls it again in the same
 * folder, where it resumes from its partial files (teacher records, checkpoints).
 */
export async function runStages(stages: readonly StageDefinition[], options: RunStagesOptions): Promise<StageOutcome[]> {
  const { runDirectory, events, signal } = options;
  const now = options.now ?? (() => new Date());
  const names = stages.map((stage) => stage.name);
  for (const flag of ['only', 'from', 'until'] as const) {
    const wanted = options[flag];
    if (wanted !== undefined && !names.includes(wanted)) {
      throw new UserError({
        message: `--${flag} ${wanted}: this pipeline has no ${wanted} stage`,
        fix: `stages of this pipeline: ${names.join(', ')}`,
      });
    }
  }
  const fromIndex = options.from ? names.indexOf(options.from) : Number.POSITIVE_INFINITY;
  const onlyIndex = options.only ? names.indexOf(options.only) : -1;
  const untilIndex = options.until ? names.indexOf(options.until) : Number.POSITIVE_INFINITY;

  const outcomes: StageOutcome[] = [];
  const upstream: Partial<Record<StageName, StageRecord>> = {};
  // What the next stage's signature follows: the last signature, or for a partial stage that
  // signature together with what it lacks.
  let previous = '';
  for (const [index, stage] of stages.entries()) {
    if ((onlyIndex >= 0 && index > onlyIndex) || index > untilIndex) break;
    const signature = stageSignature(stage, previous);
    previous = signature;
    const directory = stageDirectory(runDirectory, stage.name, signature);
    const forced = index >= fromIndex || index === onlyIndex;
    const stored = forced ? null : readStageRecord(directory);
    if (stored) {
      events.emit('stage.reused', { stage: stage.name, signature, directory });
      outcomes.push({ stage: stage.name, signature, directory, status: 'reused', record: stored });
    } else {
      if (onlyIndex >= 0 && index < onlyIndex) {
        throw new UserError({
          message: `--only ${options.only}: the ${stage.name} stage has no stored output for this pipeline`,
          fix: `run \`distill run\` without --only first (or with --from ${stage.name})`,
        });
      }
      if (options.requireStored?.stages.includes(stage.name)) {
        throw new UserError({ message: `the ${stage.name} stage has no stored output for this pipeline`, fix: options.requireStored.fix });
      }
      if (signal.aborted) throw signal.reason;
      mkdirSync(directory, { recursive: true });
      const startedAt = now().toISOString();
      events.emit('stage.start', { stage: stage.name, signature, directory });
      const output = await stage.run({ runDirectory, stageDirectory: directory, upstream: { ...upstream }, events, signal });
      const record: StageRecord = {
        stage: stage.name,
        signature,
        inputs: stage.inputs,
        startedAt,
        finishedAt: now().toISOString(),
        output,
      };
      if (stage.complete && !stage.complete(output)) {
        // No record: the next run calls the stage again in the same folder, and it carries on.
        events.emit('stage.stopped', { stage: stage.name, signature, directory });
        outcomes.push({ stage: stage.name, signature, directory, status: 'stopped', record });
        break;
      }
      const missing = stage.partial?.(output) ?? null;
      if (missing !== null) {
        // No record: the next run calls the stage again, and it does what is missing.
        previous = canonicalHash({ upstream: signature, missing });
        events.emit('stage.partial', { stage: stage.name, signature, directory, missing });
        outcomes.push({ stage: stage.name, signature, directory, status: 'partial', record });
      } else {
        writeStageRecord(directory, record);
        events.emit('stage.done', { stage: stage.name, signature, directory });
        outcomes.push({ stage: stage.name, signature, directory, status: 'computed', record });
      }
    }
    upstream[stage.name] = outcomes.at(-1)!.record;
  }
  return outcomes;
}
