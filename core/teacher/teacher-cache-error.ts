import Database from 'better-sqlite3';
import { UserError } from '../errors/user-error.js';

/**
 * A teacher cache that cannot be read or written: damaged, empty, not a file, locked, on a full or
 * read-only disk. It is a {@link UserError} (printed with its fix, no stack trace) that also keeps
 * what happened in {@link TeacherCacheError.code}, so a caller holding paid answers can tell a full
 * disk from a damaged file and keep them somewhere else.
 */
export class TeacherCacheError extends UserError {
  /**
   * SQLite's extended result code (`SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_IOERR_WRITE`,
   * `SQLITE_CORRUPT`, `SQLITE_NOTADB`, `SQLITE_BUSY`, …), or one of distill's own: `CACHE_EMPTY`
   * (a 0-byte file), `CACHE_NOT_A_FILE` (a folder in its place), or the system's (`EACCES`).
   */
  readonly code: string;
  /** The cache file. */
  readonly file: string;

  constructor(options: {
    readonly file: string;
    readonly code: string;
    readonly message: string;
    readonly fix: string;
    readonly cause?: unknown;
  }) {
    super({ message: options.message, fix: options.fix });
    this.name = 'TeacherCacheError';
    this.code = options.code;
    this.file = options.file;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** The file as a shell argument, so a fix can be pasted as it is. */
function shellArgument(file: string): string {
  return /^[\w@%+=:,./-]+$/.test(file) ? file : `'${file.replaceAll("'", `'\\''`)}'`;
}

/** What `distill cache repair` does for a damaged cache, and the ways around it. */
export function repairFix(file: string): string {
  return (
    `\`distill cache repair --path ${shellArgument(file)}\` keeps every readable answer (the damaged file is kept beside it); ` +
    'or move the file away with its -wal and -shm files to start an empty cache (answers not in it are paid for again), or set cache.enabled: false'
  );
}

/** What to do about a cache whose content cannot be read. */
export function damagedCacheFix(file: string): string {
  return `run \`distill cache check --path ${shellArgument(file)}\` to see how many answers can still be read; ${repairFix(file)}`;
}

/** A 0-byte cache file: SQLite would take it for a new, empty cache and every answer would be paid again. */
export function emptyCacheError(file: string): TeacherCacheError {
  return new TeacherCacheError({
    file,
    code: 'CACHE_EMPTY',
    message: `the teacher cache at ${file} is empty (0 bytes), so it holds no answers: was it truncated, or restored from an empty backup?`,
    fix: 'restore it from a backup; or delete it to start an empty cache, knowing that every answer not in it is paid for again; or set cache.enabled: false',
  });
}

/**
 * A write-ahead log left without its cache file (moved or deleted while in use). SQLite would replay
 * it into a new cache created beside it, mixing pages of two databases.
 */
export function orphanLogError(file: string, logBytes: number): TeacherCacheError {
  return new TeacherCacheError({
    file,
    code: 'CACHE_ORPHAN_LOG',
    message: `the teacher cache at ${file} is missing, but its write-ahead log ${file}-wal (${logBytes} bytes) is there: it holds answers of a cache that was moved or deleted while in use`,
    fix: `put the cache file back beside it; or move ${file}-wal and ${file}-shm away to start an empty cache (answers not in it are paid for again)`,
  });
}

/** Something other than a file (a folder) where the cache should be. */
export function notAFileCacheError(file: string, what: string): TeacherCacheError {
  return new TeacherCacheError({
    file,
    code: 'CACHE_NOT_A_FILE',
    message: `the teacher cache path ${file} is ${what}, not a cache file`,
    fix: 'move it away, or set cache.path in the pipeline or DISTILL_CACHE_DIR to another place, or set cache.enabled: false',
  });
}

/** How each family of SQLite codes reads to the user. */
function describe(file: string, code: string): { message: string; fix: string } {
  const elsewhere = 'set cache.path in the pipeline or DISTILL_CACHE_DIR to another place, or set cache.enabled: false';
  if (code === 'SQLITE_NOTADB')
    return {
      message: `the teacher cache at ${file} is not an SQLite database (damaged, or another file put in its place)`,
      fix: damagedCacheFix(file),
    };
  if (code.startsWith('SQLITE_CORRUPT'))
    return {
      message: `the teacher cache at ${file} is damaged (SQLite: the database disk image is malformed)`,
      fix: damagedCacheFix(file),
    };
  if (code === 'SQLITE_FULL')
    return { message: `the disk holding the teacher cache at ${file} is full`, fix: `free some space on that disk, or ${elsewhere}` };
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return {
      message: `the teacher cache at ${file} was replaced while this process had it open (by \`distill cache repair\`?)`,
      fix: 'run the command again: it opens the new file',
    };
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return {
      message: `the teacher cache at ${file} cannot be written (read-only file, folder or disk)`,
      fix: `make the file and its folder writable for this user, or ${elsewhere}`,
    };
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return {
      message: `reading or writing the teacher cache at ${file} failed with a disk error (${code})`,
      fix: `check the disk (full? removed? a network share that went away?), then \`distill cache check --path ${shellArgument(file)}\`; or ${elsewhere}`,
    };
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return {
      message: `the teacher cache at ${file} stayed locked by another process`,
      fix: 'wait for the other distill command using it (a `cache repair` or `cache clear`?) to end, then run again',
    };
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return {
      message: `cannot open the teacher cache at ${file} (missing permission, or its folder cannot be created)`,
      fix: `make the file and its folder readable and writable for this user, or ${elsewhere}`,
    };
  }
  return { message: `the teacher cache at ${file} failed (${code})`, fix: damagedCacheFix(file) };
}

/**
 * What an error from SQLite (or the file system) on the cache file means for the user, as a
 * {@link TeacherCacheError} with SQLite's message appended; anything else comes back as it was.
 */
export function teacherCacheError(file: string, error: unknown): unknown {
  if (error instanceof TeacherCacheError) return error;
  if (error instanceof Database.SqliteError) {
    const { message, fix } = describe(file, error.code);
    return new TeacherCacheError({ file, code: error.code, message: `${message}: ${error.message}`, fix, cause: error });
  }
  const systemCode = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof systemCode === 'string' && /^E[A-Z]+$/.test(systemCode)) {
    const { fix } = describe(file, 'SQLITE_CANTOPEN');
    return new TeacherCacheError({
      file,
      code: systemCode,
      message: `cannot use the teacher cache at ${file}: ${(error as Error).message}`,
      fix,
      cause: error,
    });
  }
  return error;
}
