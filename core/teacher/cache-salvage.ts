import type Database from 'better-sqlite3';
import { answerColumns, answerSelectList, storedAnswerFromRow, type AnswerRow, type StoredAnswer } from './teacher-cache.js';

/** What a salvage pass over a cache found. */
export interface SalvageCount {
  /** Answers read whole. */
  readonly readable: number;
  /**
   * Rows that could not be read: a read that failed, values of the wrong type, or an index entry
   * whose row is gone. A failed read in a damaged part of the table may also be a slot of an answer
   * deleted long ago, so this is what is probably lost, not an exact count.
   */
  readonly unreadable: number;
}

/**
 * Makes a connection able to read what is left of a damaged cache. `better-sqlite3` turns on
 * SQLite's defensive mode, in which (as by default) a file shorter than its header says, i.e. a
 * truncated cache, is refused as a whole; with defensive mode off and `writable_schema` on, SQLite
 * reads the pages that are there. Nothing is ever written through such a connection.
 */
export function allowDamagedReads(database: Database.Database): void {
  database.unsafeMode(true);
  database.pragma('writable_schema = ON');
}

/**
 * Reads every answer that can still be read from a cache, damaged or not, handing them to `keep`
 * in batches of `batchSize`. The table is read row by row (by rowid), so a damaged page costs only
 * the rows on it. Which rowids to try comes from every readable path to them: the table read
 * forwards and backwards up to the damage, each index likewise, and `MAX(rowid)`; every rowid up to
 * the highest the table itself gave is tried, since rowids are handed out in order.
 */
export function salvageAnswers(database: Database.Database, keep: (answers: StoredAnswer[]) => void, batchSize = 500): SalvageCount {
  const { known, tableMaximum } = knownRowids(database);
  // A cache made before the log-probabilities column has none to read: null stands in.
  const columns = tryRead(() => answerSelectList(database)) ?? answerColumns;
  const probe = tryRead(() => database.prepare<[number], AnswerRow>(`SELECT ${columns} FROM answers NOT INDEXED WHERE rowid = ?`));
  if (!probe) return { readable: 0, unreadable: known.size };
  let readable = 0;
  let unreadable = 0;
  let batch: StoredAnswer[] = [];
  const read = (rowid: number) => {
    let row: AnswerRow | undefined;
    try {
      row = probe.get(rowid);
    } catch {
      unreadable++;
      return;
    }
    if (row === undefined) {
      if (known.has(rowid)) unreadable++;
      return;
    }
    if (!isAnswerRow(row)) {
      unreadable++;
      return;
    }
    readable++;
    batch.push(storedAnswerFromRow(row));
    if (batch.length >= batchSize) {
      keep(batch);
      batch = [];
    }
  };
  for (let rowid = 1; rowid <= tableMaximum; rowid++) read(rowid);
  for (const rowid of known) if (rowid < 1 || rowid > tableMaximum) read(rowid);
  if (batch.length > 0) keep(batch);
  return { readable, unreadable };
}

/** Rowids seen on any readable path, and the highest one the table itself gave. */
function knownRowids(database: Database.Database): { known: Set<number>; tableMaximum: number } {
  const known = new Set<number>();
  let tableMaximum = 0;
  const collect = (sql: string, fromTable: boolean) => {
    const statement = tryRead(() => database.prepare(sql).pluck());
    if (!statement) return;
    try {
      for (const rowid of statement.iterate()) {
        if (!Number.isSafeInteger(rowid)) continue;
        known.add(rowid as number);
        if (fromTable) tableMaximum = Math.max(tableMaximum, rowid as number);
      }
    } catch {
      // Damaged from here on: the pass in the other direction, the indexes and the probes cover the rest.
    }
  };
  for (const direction of ['ASC', 'DESC']) {
    collect(`SELECT rowid FROM answers NOT INDEXED ORDER BY rowid ${direction}`, true);
    for (const { name, columns } of answerIndexes(database)) {
      collect(
        `SELECT rowid FROM answers INDEXED BY "${name}" ORDER BY ${columns.map((column) => `"${column}" ${direction}`).join(', ')}`,
        false,
      );
    }
  }
  collect('SELECT MAX(rowid) FROM answers', true);
  return { known, tableMaximum };
}

/** The indexes of the `answers` table with their columns, as far as the schema can be read. */
function answerIndexes(database: Database.Database): { name: string; columns: string[] }[] {
  const names =
    tryRead(
      () => database.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'answers'").pluck().all() as string[],
    ) ?? [];
  return names.flatMap((name) => {
    if (!/^\w+$/.test(name)) return [];
    const columns = tryRead(() => (database.pragma(`index_info("${name}")`) as { name: string | null }[]).map((column) => column.name));
    return columns && columns.length > 0 && columns.every((column): column is string => column !== null && /^\w+$/.test(column))
      ? [{ name, columns }]
      : [];
  });
}

/**
 * A row whose values look whole. A damaged page can yield values of other types; and SQLite fills
 * the part of a page cut off by truncation with zeros, so a row that crosses the cut reads with its
 * end zeroed: NUL characters in a text, or a `created_at` of 0, the last column. Such a row would
 * serve a mangled answer as if it had been paid for, so it counts as lost.
 */
function isAnswerRow(row: AnswerRow): boolean {
  const texts = [
    row.key,
    row.plugin_id,
    row.plugin_version,
    row.provider,
    row.model,
    row.response_model,
    row.text,
    row.finish_reason ?? '',
    row.token_logprobs ?? '',
  ];
  const counts = [row.prompt_tokens, row.completion_tokens, row.created_at];
  return (
    texts.every((value) => typeof value === 'string' && !value.includes('\u0000')) &&
    counts.every((value) => Number.isSafeInteger(value) && value >= 0) &&
    row.created_at > 0
  );
}

/** The result of a read of a damaged file, or null where the read failed. */
function tryRead<Result>(read: () => Result): Result | null {
  try {
    return read();
  } catch {
    return null;
  }
}
