import { UserError } from '../errors/user-error.js';
import { assertReadableFile, readLines } from './read-lines.js';

/** One parsed JSON Lines record and where it came from. */
export interface JsonLinesRecord {
  /** The parsed value of the line. */
  readonly value: unknown;
  /** 1-based line number in the file, for error messages. */
  readonly line: number;
  /** 0-based index among the non-blank lines: the record's position in the file. */
  readonly index: number;
}

/**
 * Streams a JSON Lines file record by record. Blank lines are skipped (a trailing newline is
 * common); a missing file or a line that is not JSON is a {@link UserError} with file and line.
 *
 * @param what - what the file is, for the missing-file message.
 */
export async function* readJsonLines(file: string, what = 'JSON Lines file'): AsyncGenerator<JsonLinesRecord> {
  await assertReadableFile(file, what);
  let index = 0;
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UserError({
        message: `line ${line} of ${file} is not valid JSON: ${(error as Error).message}`,
        file,
        line,
        fix: 'each line of a JSON Lines file must hold one JSON value',
      });
    }
    yield { value, line, index: index++ };
  }
}

/**
 * The value of one line of a file distill wrote and may find torn (a kill in mid-write): the parsed
 * JSON, or null when the line is not JSON.
 */
export function parseLineOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
