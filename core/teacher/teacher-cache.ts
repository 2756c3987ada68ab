import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { TeacherResponse, TokenLogprob } from '../plugins/kinds/teacher.js';
import { emptyCacheError, notAFileCacheError, orphanLogError, teacherCacheError } from './teacher-cache-error.js';

/** One stored answer. */
export interface CachedAnswer {
  readonly response: TeacherResponse;
  /** Milliseconds since the epoch when the answer was stored. */
  readonly createdAt: number;
}

/** Who asked, stored beside each answer for `distill cache stats` and `cache clear --model`. */
export interface CacheEntryOrigin {
  readonly pluginId: string;
  readonly pluginVersion: string;
  readonly provider: string;
  /** The model that was asked for (the answer's own `model` may be a dated id). */
  readonly model: string;
}

/** `distill cache stats`. */
export interface CacheStatistics {
  readonly file: string;
  readonly exists: boolean;
  readonly entries: number;
  /** Bytes of the database file plus its write-ahead log. */
  readonly sizeBytes: number;
  readonly oldest: string | null;
  readonly newest: string | null;
  readonly byModel: readonly { provider: string; model: string; entries: number; promptTokens: number; completionTokens: number }[];
}

/** What `distill cache clear` removes; no filter removes everything. */
export interface CacheClearFilter {
  /** Only answers stored more than this many days ago. */
  readonly olderThanDays?: number;
  /** Only answers of this model (the requested id or the id the provider reported). */
  readonly model?: string;
}

/** One answer as the cache stores it, with who asked for it. */
export interface StoredAnswer {
  readonly key: string;
  readonly origin: CacheEntryOrigin;
  readonly response: TeacherResponse;
  /** Milliseconds since the epoch when the answer was stored. */
  readonly createdAt: number;
}

/** An answer waiting for the transaction of its turn of the event loop. */
interface PendingCommit extends StoredAnswer {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A row of the `answers` table, as {@link answerColumns} selects it. */
export interface AnswerRow {
  key: string;
  plugin_id: string;
  plugin_version: string;
  provider: string;
  model: string;
  response_model: string;
  text: string;
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason: string | null;
  created_at: number;
  /** The answer's tokens with their log-probabilities, as JSON `[[token, logprob], …]`, or null when none came. */
  token_logprobs: string | null;
}

/** Every column of the `answers` table, in the order of {@link AnswerRow}. */
export const answerColumns =
  'key, plugin_id, plugin_version, provider, model, response_model, text, prompt_tokens, completion_tokens, finish_reason, created_at, token_logprobs';

/**
 * The column added for token log-probabilities: nullable, so that the answers stored before it
 * stay as they were; added to an existing cache when it is opened (see {@link initialize}).
 */
const logprobsColumn = 'token_logprobs';

/**
 * {@link answerColumns} as a select list for a table that may lack the log-probabilities column (a
 * cache made before it, opened where it cannot be changed, or being salvaged): null stands in.
 */
export function answerSelectList(database: Database.Database): string {
  return hasLogprobsColumn(database) ? answerColumns : answerColumns.replace(logprobsColumn, `NULL AS ${logprobsColumn}`);
}

function hasLogprobsColumn(database: Database.Database): boolean {
  return (database.pragma('table_info(answers)') as { name: string }[]).some((column) => column.name === logprobsColumn);
}

/** The stored form of token log-probabilities: compact pairs. */
function logprobsText(tokens: readonly TokenLogprob[] | undefined): string | null {
  return tokens ? JSON.stringify(tokens.map((token) => [token.token, token.logprob])) : null;
}

/**
 * Token log-probabilities read back; a value that is not the stored form (a damaged row) is left out
 * rather than trusted, since a confidence computed from it would be wrong.
 */
function logprobsFromText(text: string | null): readonly TokenLogprob[] | undefined {
  if (text === null) return undefined;
  try {
    const pairs = JSON.parse(text) as unknown;
    if (!Array.isArray(pairs)) return undefined;
    const tokens: TokenLogprob[] = [];
    for (const pair of pairs as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'number') return undefined;
      tokens.push({ token: pair[0], logprob: pair[1] });
    }
    return tokens;
  } catch {
    return undefined;
  }
}

/** The answer a row holds. */
export function storedAnswerFromRow(row: AnswerRow): StoredAnswer {
  const tokenLogprobs = logprobsFromText(row.token_logprobs);
  return {
    key: row.key,
    origin: { pluginId: row.plugin_id, pluginVersion: row.plugin_version, provider: row.provider, model: row.model },
    response: {
      text: row.text,
      usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
      model: row.response_model,
      finishReason: row.finish_reason,
      ...(tokenLogprobs ? { tokenLogprobs } : {}),
    },
    createdAt: row.created_at,
  };
}

/**
 * The teacher cache: an SQLite file (via `better-sqlite3`) of raw answers keyed by
 * {@link teacherCacheKey}. Only answers are stored, never errors, so a failure is always retried.
 *
 * Durability: WAL journal with `synchronous=NORMAL`. In WAL mode every committed transaction is in
 * the log file when `put` returns, i.e. in the operating system's page cache, which survives the
 * process being killed (`kill -9`, a crash, Ctrl+C): nothing paid for is lost then. NORMAL skips the
 * fsync per commit that FULL does; the only thing it risks is the last answers on a power cut or
 * kernel crash, which would be asked (and paid) again, never corrupted. That trade keeps a commit per
 * answer cheap, so answers can be committed one at a time, before they are parsed or used.
 * `busy_timeout` lets several pipelines share one cache file at once.
 *
 * Group commit: {@link TeacherCache.commit} gathers the answers that arrive in one turn of the event
 * loop and commits them in one transaction, resolving each caller only once its answer is committed.
 * A commit writes the same few pages (the table and each index) whatever the number of rows, so with
 * many requests in flight, when answers arrive by the dozen per turn, this divides the cost per answer,
 * while each answer is still committed before anyone uses it. The price is that an answer waits for
 * the rest of its turn to be handled; {@link TeacherCache.flushCommits} commits at once for a caller
 * that knows no other answer can come (the request engine, when no other call of its is out).
 *
 * Failures: whatever SQLite or the file system reports about the file (damaged, empty, a folder in
 * its place, locked, disk full, read-only) is thrown as a `TeacherCacheError` (`teacher-cache-error.ts`),
 * a `UserError` naming the file and the fix, whose `code` keeps SQLite's result code. A failed group commit
 * rejects the promises of its answers with it, so the caller still holds them.
 */
export class TeacherCache {
  private readonly selectStatement: Database.Statement<[string], AnswerRow>;
  private readonly insertStatement: Database.Statement;
  private readonly insertMany: (answers: readonly StoredAnswer[]) => number;
  private pendingCommits: PendingCommit[] = [];
  /** The end-of-turn flush of {@link pendingCommits}, cancelled when {@link flushCommits} runs first. */
  private scheduledFlush: NodeJS.Immediate | undefined;
  /** Whether the table has the log-probabilities column (see {@link addLogprobsColumn}). */
  private readonly storesLogprobs: boolean;

  private constructor(
    readonly file: string,
    /**
     * The open SQLite connection, for stores that keep their own tables in the cache's file (the
     * batch store of `teacher.mode: batch`); nothing else should write through it.
     */
    readonly database: Database.Database,
  ) {
    this.selectStatement = this.database.prepare<[string], AnswerRow>(`SELECT ${answerSelectList(database)} FROM answers WHERE key = ?`);
    // The first answer stored for a key wins: two processes racing on one prompt both paid, but
    // every later reader sees one stable answer. A table without the log-probabilities column is
    // one that could not be changed: it cannot be written either, and the insert fails as it would.
    this.storesLogprobs = hasLogprobsColumn(database);
    const columns = this.storesLogprobs ? answerColumns : answerColumns.replace(`, ${logprobsColumn}`, '');
    const placeholders = columns.split(',').map(() => '?');
    this.insertStatement = this.database.prepare(
      `INSERT INTO answers (${columns}) VALUES (${placeholders.join(', ')}) ON CONFLICT (key) DO NOTHING`,
    );
    this.insertMany = this.database.transaction((answers: readonly StoredAnswer[]) => {
      let inserted = 0;
      for (const answer of answers) inserted += this.insert(answer);
      return inserted;
    });
  }

  /**
   * Opens the cache file, creating it when there is none. An existing file that is empty (0 bytes),
   * not a file, or not a readable cache is a `TeacherCacheError`, never taken for a new cache.
   */
  static open(file: string): TeacherCache {
    // A `distill cache repair` swaps in a new file while this process may be waiting for its lock
    // on the old one: the connection is then opened again, on the new file.
    for (let attempt = 1; ; attempt++) {
      let database: Database.Database | null = null;
      try {
        const identity = existingCacheFile(file) ?? createCacheFile(file);
        database = connect(file, identity, attempt < 3);
        if (database) return new TeacherCache(file, database);
      } catch (error) {
        database?.close();
        throw teacherCacheError(file, error);
      }
    }
  }

  /** The stored answer for a key, or null. */
  get(key: string): CachedAnswer | null {
    const row = this.guarded(() => this.selectStatement.get(key));
    if (!row) return null;
    const { response, createdAt } = storedAnswerFromRow(row);
    return { response, createdAt };
  }

  /** Commits an answer on its own; when this returns, the answer survives the process being killed. */
  put(key: string, origin: CacheEntryOrigin, response: TeacherResponse, createdAt: number): void {
    this.guarded(() => this.insert({ key, origin, response, createdAt }));
  }

  /**
   * Commits answers in one transaction (`distill cache repair` copying a cache) and returns how many
   * were new; an answer whose key is already stored is left as it was.
   */
  putAll(answers: readonly StoredAnswer[]): number {
    return this.guarded(() => this.insertMany(answers));
  }

  /**
   * Commits an answer together with the others given in the same turn of the event loop, in one
   * transaction. Resolves once the answer is committed (it then survives the process being killed),
   * rejects if that transaction fails (every answer in it is then not stored) with a
   * `TeacherCacheError` whose `code` says why (`SQLITE_FULL`, `SQLITE_READONLY`, …).
   */
  commit(key: string, origin: CacheEntryOrigin, response: TeacherResponse, createdAt: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingCommits.push({ key, origin, response, createdAt, resolve, reject });
      // setImmediate runs after the event loop has handled every response that arrived in this turn.
      if (this.pendingCommits.length === 1) this.scheduledFlush = setImmediate(() => this.flushCommits());
    });
  }

  /**
   * Commits the pending answers now, for a caller that knows no other answer will join them this
   * turn. Never throws: a failed transaction rejects the promises of its answers instead.
   */
  flushCommits(): void {
    // A flush asked for at once leaves no empty turn of the event loop behind it.
    if (this.scheduledFlush !== undefined) clearImmediate(this.scheduledFlush);
    this.scheduledFlush = undefined;
    const commits = this.pendingCommits;
    if (commits.length === 0) return;
    this.pendingCommits = [];
    try {
      this.insertMany(commits);
    } catch (error) {
      const reason = teacherCacheError(this.file, error);
      for (const each of commits) each.reject(reason);
      return;
    }
    for (const each of commits) each.resolve();
  }

  /** Inserts one answer (1) unless its key is already stored (0). */
  private insert(answer: StoredAnswer): number {
    const { key, origin, response, createdAt } = answer;
    return this.insertStatement.run(
      key,
      origin.pluginId,
      origin.pluginVersion,
      origin.provider,
      origin.model,
      response.model,
      response.text,
      response.usage.promptTokens,
      response.usage.completionTokens,
      response.finishReason,
      Math.round(createdAt),
      ...(this.storesLogprobs ? [logprobsText(response.tokenLogprobs)] : []),
    ).changes;
  }

  /** Entries, size and a breakdown by provider and model. */
  statistics(): CacheStatistics {
    return this.guarded(() => {
      const totals = this.database
        .prepare('SELECT COUNT(*) AS entries, MIN(created_at) AS oldest, MAX(created_at) AS newest FROM answers')
        .get() as {
        entries: number;
        oldest: number | null;
        newest: number | null;
      };
      const byModel = this.database
        .prepare(
          `SELECT provider, model, COUNT(*) AS entries, SUM(prompt_tokens) AS promptTokens, SUM(completion_tokens) AS completionTokens
           FROM answers GROUP BY provider, model ORDER BY provider, model`,
        )
        .all() as { provider: string; model: string; entries: number; promptTokens: number; completionTokens: number }[];
      return {
        file: this.file,
        exists: true,
        entries: totals.entries,
        sizeBytes: cacheSizeBytes(this.file),
        oldest: totals.oldest === null ? null : new Date(totals.oldest).toISOString(),
        newest: totals.newest === null ? null : new Date(totals.newest).toISOString(),
        byModel,
      };
    });
  }

  /** Deletes the matching answers and returns how many went; `now` dates `olderThanDays`. */
  clear(filter: CacheClearFilter, now: number): number {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    if (filter.olderThanDays !== undefined) {
      conditions.push('created_at < ?');
      parameters.push(now - filter.olderThanDays * 86_400_000);
    }
    if (filter.model !== undefined) {
      conditions.push('(model = ? OR response_model = ?)');
      parameters.push(filter.model, filter.model);
    }
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    return this.guarded(() => {
      const removed = this.database.prepare(`DELETE FROM answers${where}`).run(...parameters).changes;
      if (removed > 0) {
        // Give the space back: fold the log into the file, then compact it.
        this.database.pragma('wal_checkpoint(TRUNCATE)');
        this.database.exec('VACUUM');
      }
      return removed;
    });
  }

  /** Commits what is pending, then closes the file; the cache cannot be used afterwards. */
  close(): void {
    if (!this.database.open) return;
    this.flushCommits();
    this.guarded(() => this.database.close());
  }

  /** Runs `work` on the database, with SQLite's errors told as `TeacherCacheError`s. */
  private guarded<Result>(work: () => Result): Result {
    try {
      return work();
    } catch (error) {
      throw teacherCacheError(this.file, error);
    }
  }
}

/** Which file a path names: a repair may put another one in its place. */
export interface FileIdentity {
  readonly device: number;
  readonly inode: number;
}

function identityOf(file: string): FileIdentity | null {
  try {
    const stats = statSync(file);
    return { device: stats.dev, inode: stats.ino };
  } catch {
    return null;
  }
}

/**
 * The identity of the cache file when there is one; throws for what must not be taken for a new,
 * empty cache (a 0-byte file, a folder).
 */
export function existingCacheFile(file: string): FileIdentity | null {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (stats.isDirectory()) throw notAFileCacheError(file, 'a folder');
  if (!stats.isFile()) throw notAFileCacheError(file, 'not a regular file');
  if (stats.size === 0) throw emptyCacheError(file);
  return { device: stats.dev, inode: stats.ino };
}

/**
 * Creates the cache file with its schema, atomically: SQLite creates a 0-byte file when it opens a
 * new path and writes the first page only on the first statement, so a kill in between would leave
 * a 0-byte cache. The database is built under a temporary name and hard-linked into place; a link,
 * unlike a rename, fails if another process created the cache meanwhile, and then that one is used.
 */
function createCacheFile(file: string): FileIdentity | null {
  const logBytes = fileBytes(`${file}-wal`);
  if (logBytes > 0) throw orphanLogError(file, logBytes);
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.creating-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const database = new Database(temporary);
    try {
      initialize(database);
    } finally {
      // The last connection to close folds the log into the file: one self-contained file.
      database.close();
    }
    try {
      linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        // A file system without hard links: a rename, which would replace a cache created meanwhile.
        if (!existsSync(file)) renameSync(temporary, file);
      }
    }
  } finally {
    removeCacheFiles(temporary);
  }
  return existingCacheFile(file);
}

/**
 * Opens a connection to the cache file with the given identity; null when another file was put in
 * its place before the connection could read it (and `retry` allows trying again).
 */
function connect(file: string, identity: FileIdentity | null, retry: boolean): Database.Database | null {
  // fileMustExist: SQLite must never create the file itself (that is how 0-byte caches are made).
  const database = new Database(file, { fileMustExist: true });
  try {
    database.pragma('busy_timeout = 10000');
    // The first read waits for the lock of a repair in progress; once it has the lock, the file it
    // reads is the one at the path, or the repair has moved it away and this connection must not write.
    database.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
    if (retry && !sameFile(identity, identityOf(file))) {
      database.close();
      return null;
    }
    initialize(database);
    return database;
  } catch (error) {
    database.close();
    if (retry && !sameFile(identity, identityOf(file))) return null;
    throw error;
  }
}

function sameFile(first: FileIdentity | null, second: FileIdentity | null): boolean {
  return first !== null && second !== null && first.device === second.device && first.inode === second.inode;
}

/**
 * Pages the write-ahead log may hold before a commit folds it into the file (SQLite's default is
 * 1,000). A checkpoint copies the pages and syncs both files, and it runs inside the commit that
 * crosses the mark, on the path of the answer waiting for that commit. Every answer is committed
 * before anyone uses it, so that wait is on every request's path: fewer, larger checkpoints take
 * less of it, for a log of up to 40 MB while the cache is in use (the last connection to close folds
 * it in and removes it). With {@link droppedIndexes}, a commit of one answer takes less than half the
 * time it did (the *commit* step of `bench/teacher/teacher-engine-benchmark.ts`, before and after).
 */
const checkpointPages = 10_000;

/**
 * Indexes of earlier versions, dropped when a cache is opened for writing. Every answer is committed
 * on its own, before anyone uses it, and each index is one more page written per commit, on every
 * answer's wait; they served only `distill cache stats` and `cache clear`, which scan the table
 * instead (a scan of 100,000 answers takes a fraction of a second).
 */
const droppedIndexes = ['answers_model', 'answers_created_at'];

/** The journal, durability and schema every connection uses (see {@link TeacherCache}). */
function initialize(database: Database.Database): void {
  database.pragma('busy_timeout = 10000');
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma(`wal_autocheckpoint = ${checkpointPages}`);
  database.exec(`
    CREATE TABLE IF NOT EXISTS answers (
      key TEXT PRIMARY KEY,
      plugin_id TEXT NOT NULL,
      plugin_version TEXT NOT NULL,
      provider TEXT NOT NULL,
      model TEXT NOT NULL,
      response_model TEXT NOT NULL,
      text TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL,
      finish_reason TEXT,
      created_at INTEGER NOT NULL,
      ${logprobsColumn} TEXT
    );
  `);
  addLogprobsColumn(database);
  dropOldIndexes(database);
}

/** Drops the {@link droppedIndexes} a cache still has; a cache that cannot be changed keeps them. */
function dropOldIndexes(database: Database.Database): void {
  const present = database
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN (${droppedIndexes.map(() => '?').join(', ')})`)
    .pluck()
    .all(...droppedIndexes) as string[];
  for (const name of present) {
    try {
      database.exec(`DROP INDEX IF EXISTS ${name}`);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_READONLY')) return;
      throw error;
    }
  }
}

/**
 * Adds the log-probabilities column to a cache made before it. Another process may add it at the
 * same moment (then it is there: fine); a cache that cannot be changed (a read-only file) is used as
 * it is, for reading, like any read-only cache.
 */
function addLogprobsColumn(database: Database.Database): void {
  if (hasLogprobsColumn(database)) return;
  try {
    database.exec(`ALTER TABLE answers ADD COLUMN ${logprobsColumn} TEXT`);
  } catch (error) {
    if (hasLogprobsColumn(database)) return;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_READONLY')) return;
    throw error;
  }
}

/** Bytes of a cache file plus its write-ahead log; 0 for a missing file. */
export function cacheSizeBytes(file: string): number {
  return fileBytes(file) + fileBytes(`${file}-wal`);
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Removes a database file with its log and shared-memory index, where they exist. */
export function removeCacheFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}
