import { closeSync, createReadStream, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NoFollowAppender } from '../files/no-follow-files.js';
import { parseLineOrNull } from '../parsing/json-lines.js';
import type { TeacherRecord } from './teacher-record.js';

/** The key of a record in a teacher output: ids are unique within a split only. */
export function recordKey(split: string, id: string): string {
  return `${split}\u0000${id}`;
}

/** What an earlier run left in the output file. */
export interface ExistingOutput {
  /** The {@link recordKey}s of the records kept: the examples a resumed run skips. */
  readonly keys: Set<string>;
  /** Records kept: answers (parsed or not). */
  readonly records: number;
  /** Lines dropped so that they are done again: failed requests, and a line torn by a kill. */
  readonly dropped: number;
}

/** Each line of a teacher output, read as a stream, with its record or null when it is not one (torn, not JSON). */
async function* outputLines(file: string): AsyncGenerator<{ readonly line: string; readonly record: TeacherRecord | null }> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const parsed = parseLineOrNull(line);
    yield { line, record: typeof parsed === 'object' && parsed !== null ? (parsed as TeacherRecord) : null };
  }
}

/** Whether a line is kept on resume: an answer, and the first line of its example. Adds kept keys to `seen`. */
function keepLine(record: TeacherRecord | null, seen: Set<string>): record is TeacherRecord {
  if (record === null || record.parse_status === 'failed') return false;
  const key = recordKey(record.split, record.id);
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

function endsWithNewline(file: string): boolean {
  const { size } = statSync(file);
  if (size === 0) return true;
  const descriptor = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(descriptor, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Reads a teacher output to resume from it, one line at a time: each record kept is handed to
 * `visit` (the caller keeps totals, not records, so memory does not grow with the file) and only
 * the keys of the examples done are returned. Answers are kept; `failed` records (no answer came)
 * are dropped so that a later run asks again, and so is a last line cut short by a kill in
 * mid-write. When anything was dropped the file is rewritten in a second streaming pass (through a
 * temporary file and a rename, so a kill during the rewrite leaves either the old or the new file)
 * and then holds each example at most once.
 */
export async function readExistingOutput(file: string, visit: (record: TeacherRecord) => void): Promise<ExistingOutput> {
  const keys = new Set<string>();
  if (!existsSync(file)) return { keys, records: 0, dropped: 0 };
  let dropped = 0;
  for await (const { record } of outputLines(file)) {
    if (keepLine(record, keys)) visit(record);
    else dropped++;
  }
  if (dropped > 0 || !endsWithNewline(file)) await rewriteKeptLines(file);
  return { keys, records: keys.size, dropped };
}

/** Rewrites the output with only the lines {@link readExistingOutput} keeps, each ending in a newline. */
async function rewriteKeptLines(file: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const output = new NoFollowAppender(temporary);
  try {
    // The same filter as the first pass, over a set of its own: the outcome is the same lines.
    const seen = new Set<string>();
    let chunk = '';
    for await (const { line, record } of outputLines(file)) {
      if (!keepLine(record, seen)) continue;
      chunk += line + '\n';
      // A write per megabyte or so, not per line.
      if (chunk.length >= 1 << 20) {
        output.append(chunk);
        chunk = '';
      }
    }
    output.append(chunk);
  } finally {
    output.close();
  }
  renameSync(temporary, file);
}

/**
 * Appends records one line at a time. Each line goes to the file with one `write` call as soon as
 * its example is done, so a kill loses at most the line being written (which resume repairs). The
 * file is never opened through a link, and secrets are redacted from every line (a provider's error
 * text may echo a key).
 */
export class TeacherOutputWriter {
  private readonly output: NoFollowAppender;

  constructor(readonly file: string) {
    this.output = new NoFollowAppender(file);
  }

  /** Writes one record as one line, at once. */
  append(record: TeacherRecord): void {
    this.output.append(JSON.stringify(record) + '\n');
  }

  /** Closes the file. */
  close(): void {
    this.output.close();
  }
}
