import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { UserError } from '../errors/user-error.js';
import { copyBatchRecord } from './batch/batch-store.js';
import { resolveCachePath } from './cache-location.js';
import { allowDamagedReads, salvageAnswers, type SalvageCount } from './cache-salvage.js';
import { orphanLogError, repairFix, teacherCacheError, TeacherCacheError } from './teacher-cache-error.js';
import {
  cacheSizeBytes,
  existingCacheFile,
  removeCacheFiles,
  TeacherCache,
  type CacheClearFilter,
  type CacheStatistics,
} from './teacher-cache.js';

/** Which cache a maintenance command works on. */
export interface CacheSelection {
  /** An explicit file (`--path`); otherwise the default location from the environment. */
  readonly path?: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

function cacheFile(selection: CacheSelection): string {
  return resolveCachePath({ configuredPath: selection.path, environment: selection.environment });
}

/** `distill cache stats`: entries, size and a breakdown by provider and model; a missing file is an empty cache. */
export function cacheStatistics(selection: CacheSelection): CacheStatistics {
  const file = cacheFile(selection);
  if (!existsSync(file)) return { file, exists: false, entries: 0, sizeBytes: 0, oldest: null, newest: null, byModel: [] };
  const cache = TeacherCache.open(file);
  try {
    return cache.statistics();
  } finally {
    cache.close();
  }
}

/** What `distill cache clear` did. */
export interface CacheClearResult {
  readonly file: string;
  readonly removed: number;
  readonly remaining: number;
}

/** `distill cache clear`: removes answers (all, or older than some days, or of one model). */
export function clearCache(selection: CacheSelection, filter: CacheClearFilter, now: number = Date.now()): CacheClearResult {
  const file = cacheFile(selection);
  if (!existsSync(file)) return { file, removed: 0, remaining: 0 };
  const cache = TeacherCache.open(file);
  try {
    const removed = cache.clear(filter, now);
    return { file, removed, remaining: cache.statistics().entries };
  } finally {
    cache.close();
  }
}

/** What `distill cache check` found. */
export interface CacheCheckResult {
  readonly file: string;
  readonly exists: boolean;
  /** The file passes SQLite's integrity check and every answer in it can be read (a missing file is healthy: nothing to check). */
  readonly healthy: boolean;
  /** Bytes of the database file plus its write-ahead log. */
  readonly sizeBytes: number;
  /** Answers that can be read: all of them when healthy, what a repair would keep otherwise. */
  readonly readableAnswers: number;
  /** Rows that could not be read, about what a repair would lose (see {@link SalvageCount.unreadable}). */
  readonly unreadableAnswers: number;
  /** What is wrong (SQLite's integrity check findings, or why the file cannot be read at all); empty when healthy. */
  readonly problems: readonly string[];
  /** How to fix it; null when healthy. */
  readonly fix: string | null;
}

/**
 * `distill cache check`: SQLite's `integrity_check` and a count of the answers that can be read.
 * Reads only, through a read-only connection, so it can run beside a pipeline using the cache.
 */
export function checkCache(selection: CacheSelection): CacheCheckResult {
  return checkCacheFile(cacheFile(selection));
}

/**
 * How many integrity findings to ask for, most first. A wrecked file has thousands and the first
 * say enough; and SQLite's check itself fails with "malformed" on some damage it meets after its
 * first findings, so a smaller limit that stops before that damage still says which pages are bad.
 */
const integrityFindingLimits = [20, 5, 1];

/** SQLite's integrity findings (none for a sound file); throws where even the smallest check fails. */
function integrityFindings(database: Database.Database): string[] {
  for (const [attempt, limit] of integrityFindingLimits.entries()) {
    try {
      return (database.pragma(`integrity_check(${limit})`) as { integrity_check: string }[])
        .flatMap((row) => row.integrity_check.split('\n'))
        .filter((line) => line !== 'ok' && !line.startsWith('*** in database'))
        .map((line) => `SQLite integrity check: ${line}`);
    } catch (error) {
      if (attempt === integrityFindingLimits.length - 1) throw error;
    }
  }
  return [];
}

function checkCacheFile(file: string): CacheCheckResult {
  const verdict = { file, exists: true, sizeBytes: cacheSizeBytes(file) };
  const unreadable = (error: TeacherCacheError): CacheCheckResult => ({
    ...verdict,
    healthy: false,
    readableAnswers: 0,
    unreadableAnswers: 0,
    problems: [error.message],
    fix: error.problems[0]?.fix ?? null,
  });
  if (!existsSync(file)) {
    // Missing, with nothing left of it: nothing to check. A log left behind is worth telling.
    if (verdict.sizeBytes > 0) return { ...unreadable(orphanLogError(file, verdict.sizeBytes)), exists: false };
    return { ...verdict, exists: false, healthy: true, readableAnswers: 0, unreadableAnswers: 0, problems: [], fix: null };
  }
  let database: Database.Database;
  try {
    existingCacheFile(file);
    database = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    const reason = teacherCacheError(file, error);
    if (reason instanceof TeacherCacheError) return unreadable(reason);
    throw reason;
  }
  try {
    database.pragma('busy_timeout = 10000');
    let problems: string[];
    try {
      problems = integrityFindings(database);
      const hasAnswers =
        database.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'answers'").pluck().get() === 1;
      if (problems.length === 0 && !hasAnswers) {
        const message = `${file} is an SQLite database without an answers table: not a teacher cache`;
        return unreadable(
          new TeacherCacheError({
            file,
            code: 'CACHE_NO_ANSWERS_TABLE',
            message,
            fix: 'give the path of the teacher cache file; move a file that is not one away, since distill would add its table to it',
          }),
        );
      }
      if (problems.length === 0) {
        const answers = database.prepare('SELECT COUNT(*) FROM answers').pluck().get() as number;
        return { ...verdict, healthy: true, readableAnswers: answers, unreadableAnswers: 0, problems: [], fix: null };
      }
    } catch (error) {
      const reason = teacherCacheError(file, error);
      if (!(reason instanceof TeacherCacheError)) throw reason;
      problems = [reason.message];
    }
    allowDamagedReads(database);
    const count = salvageAnswers(database, () => undefined);
    return {
      ...verdict,
      healthy: false,
      readableAnswers: count.readable,
      unreadableAnswers: count.unreadable,
      problems,
      fix: repairFix(file),
    };
  } finally {
    database.close();
  }
}

/** What `distill cache repair` did. */
export interface CacheRepairResult {
  readonly file: string;
  /** Answers copied into the repaired cache, now at `file`. */
  readonly kept: number;
  /** Rows of the damaged cache that could not be read (see {@link SalvageCount.unreadable}). */
  readonly lost: number;
  /** Where the damaged original is kept (its log, if it had one, beside it with `-wal` appended). */
  readonly damagedFile: string;
}

/**
 * `distill cache repair`: copies every answer that can be read into a new cache file, checks the
 * copy, keeps the damaged original beside it as `<file>.damaged-<time>`, and renames the copy into
 * place. Refuses while another process has the cache open, and leaves the original untouched when
 * anything fails before the rename. On a healthy cache it keeps every answer (and rebuilds the file).
 */
export function repairCache(selection: CacheSelection, now: number = Date.now()): CacheRepairResult {
  const file = cacheFile(selection);
  if (!existsSync(file)) {
    throw new UserError({
      message: `there is no teacher cache at ${file}: nothing to repair`,
      fix: 'give the cache file with --path (`distill cache stats` shows where the shared cache is)',
    });
  }
  // A 0-byte file or a folder holds nothing to copy: its error says what to do instead.
  existingCacheFile(file);
  const stamp = new Date(now).toISOString().replaceAll(/[:.]/g, '-');
  const damagedFile = `${file}.damaged-${stamp}`;
  const repairedFile = `${file}.repairing-${stamp}`;
  for (const taken of [damagedFile, `${damagedFile}-wal`]) {
    if (existsSync(taken)) throw new UserError({ message: `${taken} already exists`, fix: 'run the repair again a moment later' });
  }
  const source = lockForRepair(file);
  let replaced = false;
  try {
    removeCacheFiles(repairedFile);
    let kept = 0;
    let count: SalvageCount;
    const repaired = TeacherCache.open(repairedFile);
    try {
      count = salvageAnswers(source, (answers) => (kept += repaired.putAll(answers)));
      // Batches still at the provider stay on record, to be collected rather than submitted again.
      copyBatchRecord(source, repaired);
    } finally {
      repaired.close();
    }
    const verdict = checkCacheFile(repairedFile);
    // The check's read-only connection leaves an empty log and index behind; no one else has them open.
    for (const suffix of ['-wal', '-shm']) rmSync(`${repairedFile}${suffix}`, { force: true });
    if (!verdict.healthy || verdict.readableAnswers !== kept) {
      throw new Error(
        `the repaired copy ${repairedFile} does not pass the check (${verdict.readableAnswers} of ${kept} answers readable: ${verdict.problems.join('; ')}); the cache was left as it was`,
      );
    }
    // Nothing of the old file may stay under the cache's name: SQLite would replay a log left
    // beside the new file into it. Folding the log into the old file while still holding the lock
    // also stops a process that opened the old file during the repair from writing a log for it
    // under that name (it waits for the lock, then finds the file moved; see TeacherCache.open).
    if (!leaveWriteAheadLog(source)) source.close();
    if (existsSync(`${file}-wal`)) renameSync(`${file}-wal`, `${damagedFile}-wal`);
    rmSync(`${file}-shm`, { force: true });
    keepAside(file, damagedFile);
    renameSync(repairedFile, file);
    replaced = true;
    return { file, kept, lost: count.unreadable, damagedFile };
  } finally {
    if (source.open) source.close();
    // Where the original could only be renamed aside (no hard links) and the copy not renamed in,
    // the copy is all there is at the cache's place: it stays.
    if (!replaced && existsSync(file)) removeCacheFiles(repairedFile);
  }
}

/**
 * A connection to the cache holding SQLite's exclusive lock, which no other connection can hold at
 * the same time: every open connection in WAL mode keeps a shared lock on the file, so this fails
 * while any other process has the cache open, even idle between writes. Swapping the file under
 * such a process would let it write into the old one, or a log the new one then replays.
 */
function lockForRepair(file: string): Database.Database {
  let database: Database.Database;
  try {
    database = new Database(file, { fileMustExist: true });
  } catch (error) {
    throw teacherCacheError(file, error);
  }
  try {
    database.pragma('busy_timeout = 1000');
    allowDamagedReads(database);
    database.pragma('locking_mode = EXCLUSIVE');
    database.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
      database.close();
      throw new TeacherCacheError({
        file,
        code,
        message: `another process is using the teacher cache at ${file} (a distill run, or a cache command); a repair needs it to itself`,
        fix: 'wait for it to end (or stop it), then run `distill cache repair` again',
        cause: error,
      });
    }
    // Too damaged for SQLite to read its first page: no process can be using it as a cache either.
    if (!(error instanceof Database.SqliteError)) {
      database.close();
      throw error;
    }
  }
  return database;
}

/** Keeps the original under `damagedFile` while the cache's name still points at it until the rename. */
function keepAside(file: string, damagedFile: string): void {
  try {
    linkSync(file, damagedFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    // A file system without hard links: for a moment there is no file at the cache's name.
    renameSync(file, damagedFile);
  }
}

/** Takes the connection out of WAL mode (folding the log into the file); false where SQLite cannot. */
function leaveWriteAheadLog(database: Database.Database): boolean {
  try {
    return database.pragma('journal_mode = DELETE', { simple: true }) === 'delete';
  } catch {
    return false;
  }
}
