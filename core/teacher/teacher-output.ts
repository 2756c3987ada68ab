import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { TeacherRecord } from './teacher-record.js';

/** The key of a record in a teacher output: ids are unique within a split only. */
export function recordKey(split: string, id: string): string {
  return `${split}\u0000${id}`;
}

/** What an earlier run left in the output file. */
export interface ExistingOutput {
  /** Records kept: answers (parsed or not). */
  readonly records: TeacherRecord[];
  /** Lines dropped so that they are done again: failed requests, and a line torn by a kill. */
  readonly dropped: number;
}

/**
 * Reads a teacher output to resume from it. Answers are kept; `failed` records (no answer came) are
 * dropped so that a later run asks again, and so is a last line cut short by a kill in mid-write. When
 * anything was dropped the file is rewritten (through a temporary file and a rename, so a kill during
 * the rewrite leaves either the old or the new file) and then holds each example at most once.
 */
export function readExistingOutput(file: string): ExistingOutput {
  if (!existsSync(file)) return { records: [], dropped: 0 };
  const text = readFileSync(file, 'utf8');
  const records: TeacherRecord[] = [];
  const seen = new Set<string>();
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let record: TeacherRecord;
    try {
      record = JSON.parse(line) as TeacherRecord;
    } catch {
      dropped++;
      continue;
    }
    const key = recordKey(record.split, record.id);
    if (record.parse_status === 'failed' || seen.has(key)) {
      dropped++;
      continue;
    }
    seen.add(key);
    records.push(record);
  }
  if (dropped > 0 || (text.length > 0 && !text.endsWith('\n'))) {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, records.map((record) => JSON.stringify(record) + '\n').join(''));
    renameSync(temporary, file);
  }
  return { records, dropped };
}

/**
 * Appends records one line at a time. Each line goes to the file with one `write` call as soon as
 * its example is done, so a kill loses at most the line being written (which resume repairs).
 */
export class TeacherOutputWriter {
  private readonly descriptor: number;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.descriptor = openSync(file, 'a');
  }

  /** Writes one record as one line, at once. */
  append(record: TeacherRecord): void {
    writeSync(this.descriptor, JSON.stringify(record) + '\n');
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.descriptor);
  }
}
