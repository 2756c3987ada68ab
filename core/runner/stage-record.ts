import { existsSync } from 'node:fs';
import path from 'node:path';
import { readTextFileNoFollow, writeFileNoFollow } from '../files/no-follow-files.js';

/** File in a stage folder whose presence means the stage finished; written last, atomically. */
export const stageRecordFile = 'stage.json';

/** What a finished stage leaves behind besides its files. */
export interface StageRecord<Output = unknown> {
  readonly stage: string;
  readonly signature: string;
  /** The stage's folder, relative to the run directory (`stages/<stage>/<signature prefix>`). */
  readonly directory: string;
  /** The inputs the signature was computed from (secrets already redacted), for humans diffing runs. */
  readonly inputs: unknown;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The stage's summary output, read by later stages and the report. */
  readonly output: Output;
}

/**
 * The record of a finished stage in `directory`, or null when it never finished there, or when what
 * is there is not the record of this stage and signature (a folder copied by hand, a hash prefix
 * shared by two signatures): that stage then runs again.
 */
export function readStageRecord<Output>(
  directory: string,
  expected: { readonly stage: string; readonly signature: string },
): StageRecord<Output> | null {
  const file = path.join(directory, stageRecordFile);
  if (!existsSync(file)) return null;
  // The file is JSON that distill wrote for this stage; what it holds is checked by stage and signature.
  const record: unknown = JSON.parse(readTextFileNoFollow(file));
  return isRecordOf<Output>(record, expected) ? record : null;
}

/** Whether `value` is a stage record written for the expected stage and signature. */
function isRecordOf<Output>(
  value: unknown,
  expected: { readonly stage: string; readonly signature: string },
): value is StageRecord<Output> {
  if (typeof value !== 'object' || value === null) return false;
  const { stage, signature } = value as { stage?: unknown; signature?: unknown };
  return stage === expected.stage && signature === expected.signature;
}

/**
 * Marks a stage finished. Written to a temporary file and renamed, so a kill at any moment leaves
 * either no record (the stage runs again and resumes from its partial files) or a whole one.
 */
export function writeStageRecord(directory: string, record: StageRecord): void {
  writeFileNoFollow(path.join(directory, stageRecordFile), JSON.stringify(record, null, 2) + '\n');
}
