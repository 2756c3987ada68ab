import type { EventStream } from '../services/event-stream.js';
import type { StageName } from './stage-name.js';
import type { StageRecord } from './stage-record.js';

/** What a stage sees while it runs. */
export interface StageContext {
  /** The run directory (`<output.directory>/<pipeline name>`). */
  readonly runDirectory: string;
  /** This stage's own folder for this signature; partial files left by a killed run are still there. */
  readonly stageDirectory: string;
  /** Records of the stages that ran before this one in this run. */
  readonly upstream: Readonly<Partial<Record<StageName, StageRecord>>>;
  readonly events: EventStream;
  readonly signal: AbortSignal;
}

/**
 * One stage of a pipeline. Its signature is the hash of its `inputs` and the previous stage's
 * signature, so a stage reruns exactly when something it depends on changed: changing α changes the
 * trainer's inputs, and nothing before it.
 */
export interface StageDefinition<Output = unknown> {
  readonly name: StageName;
  /**
   * Everything the stage's output depends on besides earlier stages: plugin ids, versions and options
   * (secrets left out), data file hashes. Must be plain JSON.
   */
  readonly inputs: unknown;
  /** Does the work in `context.stageDirectory`, resuming partial work found there, and returns a JSON summary. */
  run(context: StageContext): Promise<Output>;
  /**
   * Whether an output is the stage's whole work. A stage that stops cleanly part way (the teacher at
   * its budget, or cancelled) returns its partial output and this says false: nothing is stored, no
   * later stage runs, and the next run resumes it. Absent means always complete.
   */
  complete?(output: Output): boolean;
  /**
   * For a complete output that still lacks part of the work (the teacher with a tolerated share of
   * failed examples): a JSON key for what is missing, else null. Such an output is not stored either,
   * so the next run does this stage again (asking the teacher only for what failed), but later stages
   * run on it, with signatures that include this key: they are reused only while the same part is
   * missing, and redone once it is not. Absent means never partial.
   */
  partial?(output: Output): unknown;
}
