import { readCsvRecords } from './csv.js';
import { readJsonLines } from './json-lines.js';
import { UserError } from '../errors/user-error.js';

/** One record of a table file (a JSON Lines object or a CSV row), with where it is for error messages. */
export interface TableRecord {
  readonly value: Readonly<Record<string, unknown>>;
  /** 0-based position among the file's records. */
  readonly index: number;
  /** `file:line`. */
  readonly where: string;
}

/**
 * Streams the records of one data file. Dataset plugins choose the reader per file (by option or
 * extension); the table dataset ({@link ./table-dataset.js}) turns records into examples the same
 * way whatever the reader.
 *
 * @param what - what the file is, for the missing-file message (`data file of split "train"`).
 */
export type TableReader = (file: string, what: string) => AsyncGenerator<TableRecord>;

/** Reads a JSON Lines file whose every non-blank line is an object; anything else is a user error at its line. */
export async function* readJsonObjectLines(file: string, what: string): AsyncGenerator<TableRecord> {
  for await (const record of readJsonLines(file, what)) {
    if (typeof record.value !== 'object' || record.value === null || Array.isArray(record.value)) {
      throw new UserError({
        message: `line ${record.line} of ${file} is not a JSON object`,
        file,
        line: record.line,
        fix: 'each line must be an object such as {"text": "…", "label": "…"}',
      });
    }
    yield { value: record.value as Record<string, unknown>, index: record.index, where: `${file}:${record.line}` };
  }
}

/** A reader of CSV files with a header row, cells split at `separator` (see {@link readCsvRecords}). */
export function csvTableReader(separator = ','): TableReader {
  return async function* readCsvTable(file, what) {
    for await (const record of readCsvRecords(file, what, separator)) {
      yield { value: record.value, index: record.index, where: `${file}:${record.line}` };
    }
  };
}
