import { asProblem, type LoadedPipeline } from '../config/load-pipeline.js';
import type { RequirementProblem } from '../config/requirement-problems.js';
import { sortProblems } from '../errors/sort-problems.js';
import { UserError } from '../errors/user-error.js';
import type { PluginKind } from '../plugins/plugin-kind.js';
import { stageDirectory, stageSignatures } from './run-stages.js';
import type { AnyStageDefinition } from './stage-definition.js';
import type { StageName } from './stage-name.js';
import { readStageRecord } from './stage-record.js';

/** The stage that creates the plugins of each kind: a plugin's key matters only when that stage runs. */
const stageOfKind: Readonly<Record<PluginKind, StageName>> = {
  dataset: 'dataset',
  teacher: 'teacher',
  prompt: 'teacher',
  parser: 'teacher',
  sampler: 'trainer',
  'loss-weight': 'trainer',
  trainer: 'trainer',
  evaluator: 'evaluate',
  exporter: 'export',
};

/** The stage options of a run that decide what it computes. */
export interface StageSelection {
  readonly only?: StageName;
  readonly from?: StageName;
  readonly until?: StageName;
  /** Stages the caller requires stored (`distill train`): never computed, an error instead. */
  readonly requireStored?: { readonly stages: readonly StageName[] };
}

/** One stage as a run would meet it: stored or not, and whether the run would compute it. */
export interface PlannedStage {
  readonly stage: StageName;
  readonly signature: string;
  /** Whether a finished record of this signature is in the run folder. */
  readonly stored: boolean;
  /** Whether the run would compute it (not stored, or forced by `--from`/`--only`), within `--only`/`--until`. */
  readonly runs: boolean;
}

/**
 * What a run with these options would do to each stage, read from the run folder without writing
 * to it: the same rule as `runStages` (reuse a stored record unless `--from`/`--only` forces the
 * stage; nothing after `--only` or `--until`).
 */
export function planStages(stages: readonly AnyStageDefinition[], runDirectory: string, selection: StageSelection = {}): PlannedStage[] {
  const names = stages.map((stage) => stage.name);
  const indexOf = (name: StageName | undefined, otherwise: number) =>
    name !== undefined && names.includes(name) ? names.indexOf(name) : otherwise;
  const onlyIndex = indexOf(selection.only, -1);
  const fromIndex = indexOf(selection.from, Number.POSITIVE_INFINITY);
  const lastIndex = Math.min(onlyIndex >= 0 ? onlyIndex : Number.POSITIVE_INFINITY, indexOf(selection.until, Number.POSITIVE_INFINITY));
  const signatures = stageSignatures(stages);
  return stages.map((stage, index) => {
    const signature = signatures[index]!;
    const record = readStageRecord<never>(stageDirectory(runDirectory, stage.name, signature), { stage: stage.name, signature });
    const stored = record !== null && (stage.reusable?.(record.output) ?? true);
    const forced = index >= fromIndex || index === onlyIndex;
    const refused = !stored && (selection.requireStored?.stages.includes(stage.name) ?? false);
    return { stage: stage.name, signature, stored, runs: index <= lastIndex && (forced || !stored) && !refused };
  });
}

/**
 * The unmet requirements that would stop this run: every missing path (the data is read to work out
 * what is stored), and a missing variable (an API key) only when the stage that creates its plugin
 * would run, so a rerun that reuses the teacher's answers needs no key.
 */
export function blockingRequirements(
  loaded: Pick<LoadedPipeline, 'unmetRequirements'>,
  plan: readonly PlannedStage[],
): RequirementProblem[] {
  const running = new Set(plan.filter((stage) => stage.runs).map((stage) => stage.stage));
  return loaded.unmetRequirements.filter((problem) => !problem.variable || running.has(stageOfKind[problem.kind]));
}

/** Throws one {@link UserError} listing every requirement problem, when there are any. */
export function assertRequirementsMet(problems: readonly RequirementProblem[]): void {
  if (problems.length > 0) throw new UserError(sortProblems(problems.map(asProblem)));
}

/** Throws when a path requirement is unmet: nothing can be planned without the data. */
export function assertPathsPresent(loaded: Pick<LoadedPipeline, 'unmetRequirements'>): void {
  assertRequirementsMet(loaded.unmetRequirements.some((problem) => !problem.variable) ? loaded.unmetRequirements : []);
}
