import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { canonicalHash } from '../canonical-json.js';
import { UserError } from '../errors/user-error.js';
import type { EventStream } from '../services/event-stream.js';
import type { AnyStageDefinition, StageDefinition, UpstreamRecords } from './stage-definition.js';
import type { StageName } from './stage-name.js';
import type { OutputMap, StageOutputs } from './stage-outputs.js';
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

/** How a stage ended in a run. */
export type StageStatus = 'reused' | 'computed' | 'stopped' | 'partial';

/** What happened to one stage, with its record typed by the stage's output. */
export interface StageOutcomeOf<Outputs extends OutputMap, Name extends StageName> {
  readonly stage: Name;
  readonly signature: string;
  readonly directory: string;
  /**
   * `stopped`: the stage ended without finishing (a budget, a cancel) and left no record; no later
   * stage ran. `partial`: it finished without part of its work (see {@link StageDefinition.partial}) and
   * left no record; later stages ran on it.
   */
  readonly status: StageStatus;
  readonly record: StageRecord<Outputs[Name]>;
}

/** What happened to a stage, whichever it is (its output untyped): an element of {@link StageOutcomes}. */
export type StageOutcome = StageOutcomeOf<OutputMap, StageName>;

/** The outcomes of a run in order, and each stage's outcome with its output typed (`outcomes.of('teacher')`). */
export type StageOutcomes<Outputs extends OutputMap = StageOutputs> = readonly StageOutcome[] & {
  of<Name extends StageName>(name: Name): StageOutcomeOf<Outputs, Name> | undefined;
};

/**
 * The signature of each stage: the hash of its inputs and of the signature before it, so a change
 * anywhere upstream reaches every later stage.
 */
export function stageSignatures(stages: readonly { readonly name: StageName; readonly inputs: unknown }[]): string[] {
  let previous = '';
  return stages.map((stage) => (previous = stageSignature(stage, previous)));
}

/** One stage's signature after `upstream`, the signature before it (as the next stage sees it). */
function stageSignature(stage: { readonly name: StageName; readonly inputs: unknown }, upstream: string): string {
  return canonicalHash({ stage: stage.name, inputs: stage.inputs, upstream });
}

/** Folder of a stage's output for one signature. */
export function stageDirectory(runDirectory: string, stage: StageName, signature: string): string {
  return path.join(runDirectory, 'stages', stage, signature.slice(0, 16));
}

/** Which stages a run computes, reuses or refuses, from its options. */
interface StagePlan {
  readonly fromIndex: number;
  readonly onlyIndex: number;
  readonly untilIndex: number;
}

function stagePlan(names: readonly StageName[], options: RunStagesOptions): StagePlan {
  for (const flag of ['only', 'from', 'until'] as const) {
    const wanted = options[flag];
    if (wanted !== undefined && !names.includes(wanted)) {
      throw new UserError({
        message: `--${flag} ${wanted}: this pipeline has no ${wanted} stage`,
        fix: `stages of this pipeline: ${names.join(', ')}`,
      });
    }
  }
  return {
    fromIndex: options.from ? names.indexOf(options.from) : Number.POSITIVE_INFINITY,
    onlyIndex: options.only ? names.indexOf(options.only) : -1,
    untilIndex: options.until ? names.indexOf(options.until) : Number.POSITIVE_INFINITY,
  };
}

/** What the stages of one run share as they go. */
interface RunState<Outputs extends OutputMap> {
  readonly options: RunStagesOptions;
  readonly plan: StagePlan;
  readonly upstream: UpstreamRecords<Outputs>;
  readonly list: StageOutcome[];
  /** What the next stage's signature follows: the last signature, or for a partial stage that signature with what it lacks. */
  previous: string;
}

/**
 * Runs stages in order, reusing each one whose signature already has a finished record in the run
 * directory. A stage killed half way has no record, so the next run calls it again in the same
 * folder, where it resumes from its partial files (teacher records, checkpoints).
 */
export async function runStages<Outputs extends OutputMap = StageOutputs>(
  stages: readonly AnyStageDefinition<Outputs>[],
  options: RunStagesOptions,
): Promise<StageOutcomes<Outputs>> {
  const plan = stagePlan(
    stages.map((stage) => stage.name),
    options,
  );
  const state: RunState<Outputs> = { options, plan, upstream: {}, list: [], previous: '' };
  for (const [index, stage] of stages.entries()) {
    if ((plan.onlyIndex >= 0 && index > plan.onlyIndex) || index > plan.untilIndex) break;
    const outcome = await runStage(stage, index, state);
    if (outcome.status === 'stopped') break;
  }
  const { list, upstream } = state;
  const of = <Name extends StageName>(name: Name): StageOutcomeOf<Outputs, Name> | undefined => {
    const outcome = list.find((each) => each.stage === name);
    const record = upstream[name];
    return outcome && record
      ? { stage: name, signature: outcome.signature, directory: outcome.directory, status: outcome.status, record }
      : undefined;
  };
  return Object.assign(list, { of });
}

/** Runs or reuses one stage, and adds its outcome (and its record, for later stages) to the run's state. */
async function runStage<Outputs extends OutputMap, Name extends StageName>(
  stage: StageDefinition<Name, Outputs>,
  index: number,
  state: RunState<Outputs>,
): Promise<StageOutcomeOf<Outputs, Name>> {
  const { options, plan } = state;
  const signature = stageSignature(stage, state.previous);
  state.previous = signature;
  const directory = stageDirectory(options.runDirectory, stage.name, signature);
  const forced = index >= plan.fromIndex || index === plan.onlyIndex;
  const stored = forced ? null : readStageRecord<Outputs[Name]>(directory, { stage: stage.name, signature });
  let outcome: StageOutcomeOf<Outputs, Name>;
  if (stored && (stage.reusable?.(stored.output) ?? true)) {
    options.events.emit('stage.reused', { stage: stage.name, signature, directory });
    outcome = { stage: stage.name, signature, directory, status: 'reused', record: stored };
  } else {
    outcome = await computeStage(stage, index, signature, directory, state);
  }
  state.list.push(outcome);
  state.upstream[stage.name] = outcome.record;
  return outcome;
}

/** Computes a stage that has no usable stored record, and stores its record unless it stopped or is partial. */
async function computeStage<Outputs extends OutputMap, Name extends StageName>(
  stage: StageDefinition<Name, Outputs>,
  index: number,
  signature: string,
  directory: string,
  state: RunState<Outputs>,
): Promise<StageOutcomeOf<Outputs, Name>> {
  const { options, plan } = state;
  const { runDirectory, events, signal } = options;
  const now = options.now ?? (() => new Date());
  if (plan.onlyIndex >= 0 && index < plan.onlyIndex) {
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
  const output = await stage.run({ runDirectory, stageDirectory: directory, upstream: { ...state.upstream }, events, signal });
  const record: StageRecord<Outputs[Name]> = {
    stage: stage.name,
    signature,
    directory: path.relative(runDirectory, directory),
    inputs: stage.inputs,
    startedAt,
    finishedAt: now().toISOString(),
    output,
  };
  const base = { stage: stage.name, signature, directory, record };
  if (stage.complete && !stage.complete(output)) {
    // No record: the next run calls the stage again in the same folder, and it carries on.
    events.emit('stage.stopped', { stage: stage.name, signature, directory });
    return { ...base, status: 'stopped' };
  }
  const missing = stage.partial?.(output) ?? null;
  if (missing !== null) {
    // No record: the next run calls the stage again, and it does what is missing.
    state.previous = canonicalHash({ upstream: signature, missing });
    events.emit('stage.partial', { stage: stage.name, signature, directory, missing });
    return { ...base, status: 'partial' };
  }
  writeStageRecord(directory, record);
  events.emit('stage.done', { stage: stage.name, signature, directory });
  return { ...base, status: 'computed' };
}
