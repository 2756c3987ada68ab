import { UserError } from '../../../core/errors/user-error.js';
import { readJsonLines } from '../../../core/parsing/json-lines.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';

/** Recorded completions by example id, for one split or a whole file. */
export type Recordings = ReadonlyMap<string, string>;

/**
 * Recordings from a JSON Lines file of `{"id": …, "completion": …}` lines, for answers recorded
 * from any teacher. A duplicate id is a mistake, not a second answer.
 */
export async function readJsonlRecordings(file: string): Promise<Recordings> {
  await assertReadableFile(file, 'recorded completions file');
  const recordings = new Map<string, string>();
  for await (const { value, line } of readJsonLines(file, 'recorded completions file')) {
    const record = value as { id?: unknown; completion?: unknown } | null;
    if (typeof record !== 'object' || record === null || typeof record.id !== 'string' || typeof record.completion !== 'string') {
      throw new UserError({
        message: `line ${line} of ${file} should be {"id": "…", "completion": "…"}`,
        file,
        line,
        fix: 'write one object with a string id and a string completion per line',
      });
    }
    if (recordings.has(record.id)) {
      throw new UserError({
        message: `line ${line} of ${file} repeats id "${record.id}"`,
        file,
        line,
        fix: 'keep one completion per example id',
      });
    }
    recordings.set(record.id, record.completion);
  }
  return recordings;
}
