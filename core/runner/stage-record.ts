import { existsSync } from 'node:fs';
import path from 'node:path';
import { readTextFileNoFollow, writeFileNoFollow } from '../files/no-follow-files.js';

/** File in a stage folder whose presence means the stage finished; written last, atomically. */
export const stageRecordFile = 'stage.json';

/** What a finished stage leaves behind besides its files. */
export interface StageRecord<Output = unknown> {
  readonly stage: string;
  readonly signature: string;
  /** The inputs the signature was computed from (secrets already redacted), for humans diffing runs. */
  readonly inputs: unknown;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The stage's summary output, read by later stages and the report. */
  readonly output: Output;
}

/** The record of a finished stage in `directory`, or null when it never finished there. */
export function readStageRecord<Output>(directory: string): StageRecord<Output> | null {
  const file = path.join(directory, stageRecordFile);
  if (!existsSync(file)) return null;
  return JSON.parse(readTextFileNoFollow(file)) as StageRecord<Output>;
}

/**
 * Marks a stage finished. Written to a temporary file and renamed, so a kill at any moment leaves
 * either no record (the stage runs again and resumes from its partial files) or a whole one.
 */
export function writeStageRecord(directory: string, record: StageRecord): void {
  writeFileNoFollow(path.join(directory, stageRecordFile), JSON.stringify(record, null, 2) + '\n');
}
