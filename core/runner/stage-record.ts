import { existsSync } from 'node:fs';
import path from 'node:path';
import { childPointer } from '../config/source-map.js';
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
  /**
   * JSON pointers into `output` of the paths stored relative to the run directory (a checkpoint
   * folder, a test split): the record holds no absolute path of the run folder, so a run folder copied
   * or moved elsewhere is read from where it is now. Absent in records written before: none.
   */
  readonly runPaths?: readonly string[];
}

/** The run directory of a stage folder: its record names the folder relative to it. */
function runDirectoryOfStage(directory: string, record: { readonly directory: string }): string {
  return path.resolve(directory, ...record.directory.split(/[\\/]/).map(() => '..'));
}

/** `value` with every string that `change` maps (by pointer) replaced; the rest copied as it is. */
function mapStrings(value: unknown, pointer: string, change: (text: string, pointer: string) => string): unknown {
  if (typeof value === 'string') return change(value, pointer);
  if (Array.isArray(value)) return value.map((item, index) => mapStrings(item, childPointer(pointer, index), change));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, childPointer(pointer, key), change)]));
  }
  return value;
}

/** The output with the absolute paths inside the run directory made relative to it, and where they were. */
function storedOutput(output: unknown, runDirectory: string): { output: unknown; runPaths: string[] } {
  const runPaths: string[] = [];
  const stored = mapStrings(output, '', (text, pointer) => {
    if (!path.isAbsolute(text)) return text;
    const relative = path.relative(runDirectory, text);
    if (relative.startsWith('..') || path.isAbsolute(relative)) return text;
    runPaths.push(pointer);
    return (relative || '.').split(path.sep).join('/');
  });
  return { output: stored, runPaths };
}

/** The output of a stored record with its run paths absolute again, under the run directory where it is now. */
function resolvedOutput(output: unknown, runPaths: readonly string[], runDirectory: string): unknown {
  const wanted = new Set(runPaths);
  return mapStrings(output, '', (text, pointer) => (wanted.has(pointer) ? path.resolve(runDirectory, text) : text));
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
  if (!isRecordOf<Output>(record, expected)) return null;
  if (!Array.isArray(record.runPaths) || record.runPaths.length === 0) return record;
  const output = resolvedOutput(record.output, record.runPaths, runDirectoryOfStage(directory, record)) as Output;
  return { ...record, output };
}

/** Whether `value` is a stage record written for the expected stage and signature. */
function isRecordOf<Output>(
  value: unknown,
  expected: { readonly stage: string; readonly signature: string },
): value is StageRecord<Output> {
  if (typeof value !== 'object' || value === null) return false;
  const { stage, signature, directory } = value as { stage?: unknown; signature?: unknown; directory?: unknown };
  return stage === expected.stage && signature === expected.signature && typeof directory === 'string';
}

/**
 * Marks a stage finished. Written to a temporary file and renamed, so a kill at any moment leaves
 * either no record (the stage runs again and resumes from its partial files) or a whole one. Paths
 * inside the run directory are stored relative to it (see {@link StageRecord.runPaths}).
 */
export function writeStageRecord(directory: string, record: StageRecord): void {
  const { output, runPaths } = storedOutput(record.output, runDirectoryOfStage(directory, record));
  const stored: StageRecord = { ...record, output, ...(runPaths.length > 0 ? { runPaths } : {}) };
  writeFileNoFollow(path.join(directory, stageRecordFile), JSON.stringify(stored, null, 2) + '\n');
}
