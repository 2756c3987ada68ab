import { createReadStream } from 'node:fs';
import { UserError } from '../errors/user-error.js';
import { assertReadableFile } from './read-lines.js';

/**
 * The longest row the parser holds, in characters (1 MiB of text): far above a real example, and
 * it keeps an unclosed quote near the top of a large file from reading the whole file into one
 * field in memory.
 */
export const csvRowCharacterLimit = 1_048_576;

/** A CSV text that cannot be read, with the 1-based line of the row where it went wrong. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

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
  private rowCharacters = 0;

  constructor(
    private readonly separator = ',',
    private readonly rowCharacterLimit = csvRowCharacterLimit,
  ) {}

  /** Feeds more text; returns the rows completed by it, each with the line it started on. */
  push(chunk: string): { readonly cells: string[]; readonly line: number }[] {
    const rows: { cells: string[]; line: number }[] = [];
    for (const character of chunk) {
      if (++this.rowCharacters > this.rowCharacterLimit) {
        throw new CsvSyntaxError(
          `the row starting on line ${this.rowStartLine} is longer than ${this.rowCharacterLimit} characters${this.inQuotes ? ' (a quoted field that is never closed?)' : ''}`,
          this.rowStartLine,
        );
      }
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
        this.rowCharacters = 0;
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
      throw new CsvSyntaxError(`unterminated quoted field starting on line ${this.rowStartLine}`, this.rowStartLine);
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

/** The header row's column names; an empty or repeated name is a {@link UserError} at line 1. */
function headerNames(row: { cells: string[]; line: number }, file: string): string[] {
  const names = row.cells.map((cell, position) => (position === 0 ? cell.replace(/^\uFEFF/, '') : cell).trim());
  const problems = names.flatMap((name, position) => {
    if (name === '') return [`column ${position + 1} of the header row has no name`];
    return names.indexOf(name) === position ? [] : [`column "${name}" appears twice in the header row`];
  });
  if (problems.length > 0) {
    throw new UserError(
      problems.map((message) => ({
        message: `${file}:${row.line}: ${message}`,
        file,
        line: row.line,
        fix: 'the first row names each column once',
      })),
    );
  }
  return names;
}

/** A {@link CsvSyntaxError} as a user error at its line. */
function syntaxProblem(error: unknown, file: string): unknown {
  if (!(error instanceof CsvSyntaxError)) return error;
  return new UserError({
    message: `${file}:${error.line}: ${error.message}`,
    file,
    line: error.line,
    fix: 'close every quoted field with "; a quote inside a quoted field is written twice ("say ""hi""")',
  });
}

/**
 * Streams a CSV file with a header row as records keyed by column name. A row with a different
 * number of cells than the header, a header without a name or with a name twice, an unclosed quote
 * and a row over {@link csvRowCharacterLimit} are each a {@link UserError} naming `file:line`.
 */
export async function* readCsvRecords(file: string, what = 'CSV file', separator = ','): AsyncGenerator<CsvRecord> {
  await assertReadableFile(file, what);
  const parser = new CsvParser(separator);
  let header: string[] | null = null;
  let index = 0;
  const toRecord = (row: { cells: string[]; line: number }): CsvRecord | null => {
    if (header === null) {
      header = headerNames(row, file);
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
      let rows: { cells: string[]; line: number }[];
      try {
        rows = parser.push(chunk as string);
      } catch (error) {
        throw syntaxProblem(error, file);
      }
      for (const row of rows) {
        const record = toRecord(row);
        if (record) yield record;
      }
    }
    let rest: { cells: string[]; line: number }[];
    try {
      rest = parser.end();
    } catch (error) {
      throw syntaxProblem(error, file);
    }
    for (const row of rest) {
      const record = toRecord(row);
      if (record) yield record;
    }
  } finally {
    input.destroy();
  }
}
