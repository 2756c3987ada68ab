import type { EventStream } from '../services/event-stream.js';
import type { OutputMap, StageOutputs } from './stage-outputs.js';
import type { StageName } from './stage-name.js';
import type { StageRecord } from './stage-record.js';

/** The records of the stages before this one in a run, typed by stage. */
export type UpstreamRecords<Outputs extends OutputMap = StageOutputs> = { -readonly [Name in StageName]?: StageRecord<Outputs[Name]> };

/** What a stage sees while it runs. */
export interface StageContext<Outputs extends OutputMap = StageOutputs> {
  /** The run directory (`<output.directory>/<pipeline name>`). */
  readonly runDirectory: string;
  /** This stage's own folder for this signature; partial files left by a killed run are still there. */
  readonly stageDirectory: string;
  /** Records of the stages that ran before this one in this run. */
  readonly upstream: Readonly<UpstreamRecords<Outputs>>;
  readonly events: EventStream;
  readonly signal: AbortSignal;
}

/**
 * One stage of a pipeline. Its signature is the hash of its `inputs` and the previous stage's
 * signature, so a stage reruns exactly when something it depends on changed: changing α changes the
 * trainer's inputs, and nothing before it. `Outputs` maps each stage to its output type, so a later
 * stage reads an earlier one's output with its type, never through a cast.
 */
export interface StageDefinition<Name extends StageName = StageName, Outputs extends OutputMap = StageOutputs> {
  readonly name: Name;
  /**
   * Everything the stage's output depends on besides earlier stages: plugin ids, versions and options
   * (secrets left out), data file hashes. Must be plain JSON.
   */
  readonly inputs: unknown;
  /** Does the work in `context.stageDirectory`, resuming partial work found there, and returns a JSON summary. */
  run(context: StageContext<Outputs>): Promise<Outputs[Name]>;
  /**
   * Whether an output is the stage's whole work. A stage that stops cleanly part way (the teacher at
   * its budget, or cancelled) returns its partial output and this says false: nothing is stored, no
   * later stage runs, and the next run resumes it. Absent means always complete.
   */
  complete?(output: Outputs[Name]): boolean;
  /**
   * For a complete output that still lacks part of the work (the teacher with a tolerated share of
   * failed examples): a JSON key for what is missing, else null. Such an output is not stored either,
   * so the next run does this stage again (asking the teacher only for what failed), but later stages
   * run on it, with signatures that include this key: they are reused only while the same part is
   * missing, and redone once it is not. Absent means never partial.
   */
  partial?(output: Outputs[Name]): unknown;
  /**
   * Whether a stored output can be used as it is. An output stored by an earlier version of distill
   * that lacks what this one needs is computed again, in the same folder and under the same signature
   * (so later stages stay reused). Absent means always.
   */
  reusable?(output: Outputs[Name]): boolean;
}

/** One stage of any name: the element type of a pipeline's list of stages. */
export type AnyStageDefinition<Outputs extends OutputMap = StageOutputs> = {
  [Name in StageName]: StageDefinition<Name, Outputs>;
}[StageName];
