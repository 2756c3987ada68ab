import { createReadStream } from 'node:fs';
import { UserError } from '../../../core/errors/user-error.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';

/**
 * An RFC 4180 CSV parser that takes text in chunks and hands back complete rows as they end, so
 * a large file streams. Quoted fields may hold separators, doubled quotes (`""`) and line breaks;
 * CRLF and LF both end a row. Written here because the format is small and a new npm package for
 * it is not worth a dependency.
 */
export class CsvParser {
  private field = '';
  private row: string[] = [];
  private inQuotes = false;
  /** A quote seen inside a quoted field: either the end of the field or the first of `""`. */
  private quotePending = false;
  /** The previous chunk ended in CR; an LF starting the next chunk belongs to it. */
  private carriageReturnPending = false;
  private fieldStarted = false;
  /** 1-based line where the row being read started, for error messages. */
  private line = 1;
  private rowStartLine = 1;

  constructor(private readonly separator = ',') {}

  /** Feeds more text; returns the rows completed by it, each with the line it started on. */
  push(chunk: string): { readonly cells: string[]; readonly line: number }[] {
    const rows: { cells: string[]; line: number }[] = [];
    for (const character of chunk) {
      if (this.carriageReturnPending) {
        this.carriageReturnPending = false;
        if (character === '\n') continue;
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (character === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false;
      }
      if (this.inQuotes) {
        if (character === '"') this.quotePending = true;
        else {
          if (character === '\n') this.line++;
          this.field += character;
        }
        continue;
      }
      if (character === '"' && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
      } else if (character === this.separator) {
        this.endField();
      } else if (character === '\n' || character === '\r') {
        this.carriageReturnPending = character === '\r';
        const row = this.endRow();
        if (row) rows.push(row);
        this.line++;
        this.rowStartLine = this.line;
      } else {
        this.field += character;
        this.fieldStarted = true;
      }
    }
    return rows;
  }

  /** Ends the input; returns the last row when the text did not end with a line break. */
  end(): { readonly cells: string[]; readonly line: number }[] {
    if (this.inQuotes && !this.quotePending) {
      throw new Error(`unterminated quoted field starting on line ${this.rowStartLine}`);
    }
    this.quotePending = false;
    this.inQuotes = false;
    const row = this.endRow();
    return row ? [row] : [];
  }

  private endField(): void {
    this.row.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }

  /** Completes the row; a line with nothing on it is skipped rather than read as one empty cell. */
  private endRow(): { cells: string[]; line: number } | null {
    if (this.row.length === 0 && !this.fieldStarted && this.field === '') return null;
    this.endField();
    const cells = this.row;
    this.row = [];
    return { cells, line: this.rowStartLine };
  }
}

/** Parses a whole CSV text into rows of cells (see {@link CsvParser}). */
export function parseCsv(text: string, separator = ','): string[][] {
  const parser = new CsvParser(separator);
  return [...parser.push(text), ...parser.end()].map((row) => row.cells);
}

/** One CSV data row as an object keyed by the header row. */
export interface CsvRecord {
  readonly value: Readonly<Record<string, string>>;
  /** 1-based line the row starts on. */
  readonly line: number;
  /** 0-based index among the data rows. */
  readonly index: number;
}

/**
 * Streams a CSV file with a header row as records keyed by column name. A row with a different
 * number of cells than the header is a {@link UserError} naming the line.
 */
export async function* readCsvRecords(file: string, what = 'CSV file'): AsyncGenerator<CsvRecord> {
  await assertReadableFile(file, what);
  const parser = new CsvParser();
  let header: string[] | null = null;
  let index = 0;
  const toRecord = (row: { cells: string[]; line: number }): CsvRecord | null => {
    if (header === null) {
      header = row.cells.map((cell, position) => (position === 0 ? cell.replace(/^\uFEFF/, '') : cell).trim());
      return null;
    }
    if (row.cells.length !== header.length) {
      throw new UserError({
        message: `line ${row.line} of ${file} has ${row.cells.length} cells, the header has ${header.length}`,
        file,
        line: row.line,
        fix: 'quote fields that contain commas, quotes or line breaks ("a, b" and "say ""hi""")',
      });
    }
    const value: Record<string, string> = {};
    header.forEach((name, position) => (value[name] = row.cells[position]!));
    return { value, line: row.line, index: index++ };
  };
  const input = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const chunk of input) {
      for (const row of parser.push(chunk as string)) {
        const record = toRecord(row);
        if (record) yield record;
      }
    }
    let rest: { cells: string[]; line: number }[];
    try {
      rest = parser.end();
    } catch (error) {
      throw new UserError({ message: `${file}: ${(error as Error).message}`, file, fix: 'close the quoted field with "' });
    }
    for (const row of rest) {
      const record = toRecord(row);
      if (record) yield record;
    }
  } finally {
    input.destroy();
  }
}
