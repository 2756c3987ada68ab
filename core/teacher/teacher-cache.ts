import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../errors/user-error.js';
import type { TeacherResponse } from '../plugins/kinds/teacher.js';

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

/** An answer waiting for the transaction of its turn of the event loop. */
interface PendingCommit {
  readonly key: string;
  readonly origin: CacheEntryOrigin;
  readonly response: TeacherResponse;
  readonly createdAt: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface AnswerRow {
  text: string;
  prompt_tokens: number;
  completion_tokens: number;
  response_model: string;
  finish_reason: string | null;
  created_at: number;
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
 */
export class TeacherCache {
  private readonly database: Database.Database;
  private readonly selectStatement: Database.Statement<[string], AnswerRow>;
  private readonly insertStatement: Database.Statement<unknown[]>;
  private readonly insertMany: (commits: readonly PendingCommit[]) => void;
  private pendingCommits: PendingCommit[] = [];

  private constructor(readonly file: string) {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      this.database = new Database(file);
    } catch (error) {
      throw new UserError({
        message: `cannot open the teacher cache at ${file}: ${(error as Error).message}`,
        fix: 'set cache.path in the pipeline or DISTILL_CACHE_DIR to a writable folder, or cache.enabled: false',
      });
    }
    this.database.pragma('journal_mode = WAL');
    this.database.pragma('synchronous = NORMAL');
    this.database.pragma('busy_timeout = 10000');
    this.database.exec(`
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
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS answers_model ON answers (provider, model);
      CREATE INDEX IF NOT EXISTS answers_created_at ON answers (created_at);
    `);
    this.selectStatement = this.database.prepare<[string], AnswerRow>(
      'SELECT text, prompt_tokens, completion_tokens, response_model, finish_reason, created_at FROM answers WHERE key = ?',
    );
    // The first answer stored for a key wins: two processes racing on one prompt both paid, but
    // every later reader sees one stable answer.
    this.insertStatement = this.database.prepare(
      `INSERT INTO answers (key, plugin_id, plugin_version, provider, model, response_model, text, prompt_tokens, completion_tokens, finish_reason, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
    );
    this.insertMany = this.database.transaction((commits: readonly PendingCommit[]) => {
      for (const { key, origin, response, createdAt } of commits) this.insert(key, origin, response, createdAt);
    });
  }

  /** Opens (creating when needed) the cache file. */
  static open(file: string): TeacherCache {
    return new TeacherCache(file);
  }

  /** The stored answer for a key, or null. */
  get(key: string): CachedAnswer | null {
    const row = this.selectStatement.get(key);
    if (!row) return null;
    return {
      response: {
        text: row.text,
        usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
        model: row.response_model,
        finishReason: row.finish_reason,
      },
      createdAt: row.created_at,
    };
  }

  /** Commits an answer on its own; when this returns, the answer survives the process being killed. */
  put(key: string, origin: CacheEntryOrigin, response: TeacherResponse, createdAt: number): void {
    this.insert(key, origin, response, createdAt);
  }

  /**
   * Commits an answer together with the others given in the same turn of the event loop, in one
   * transaction. Resolves once the answer is committed (it then survives the process being killed),
   * rejects if that transaction fails (every answer in it is then not stored).
   */
  commit(key: string, origin: CacheEntryOrigin, response: TeacherResponse, createdAt: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingCommits.push({ key, origin, response, createdAt, resolve, reject });
      // setImmediate runs after the event loop has handled every response that arrived in this turn.
      if (this.pendingCommits.length === 1) setImmediate(() => this.flushCommits());
    });
  }

  /** Commits the pending answers now, for a caller that knows no other answer will join them this turn. */
  flushCommits(): void {
    const commits = this.pendingCommits;
    if (commits.length === 0) return;
    this.pendingCommits = [];
    try {
      this.insertMany(commits);
    } catch (error) {
      for (const each of commits) each.reject(error);
      return;
    }
    for (const each of commits) each.resolve();
  }

  private insert(key: string, origin: CacheEntryOrigin, response: TeacherResponse, createdAt: number): void {
    this.insertStatement.run(
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
    );
  }

  /** Entries, size and a breakdown by provider and model. */
  statistics(): CacheStatistics {
    const totals = this.database.prepare('SELECT COUNT(*) AS entries, MIN(created_at) AS oldest, MAX(created_at) AS newest FROM answers').get() as {
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
      sizeBytes: fileSize(this.file) + fileSize(this.file + '-wal'),
      oldest: totals.oldest === null ? null : new Date(totals.oldest).toISOString(),
      newest: totals.newest === null ? null : new Date(totals.newest).toISOString(),
      byModel,
    };
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
    const removed = this.database.prepare(`DELETE FROM answers${where}`).run(...parameters).changes;
    if (removed > 0) {
      // Give the space back: fold the log into the file, then compact it.
      this.database.pragma('wal_checkpoint(TRUNCATE)');
      this.database.exec('VACUUM');
    }
    return removed;
  }

  /** Commits what is pending, then closes the file; the cache cannot be used afterwards. */
  close(): void {
    if (!this.database.open) return;
    this.flushCommits();
    this.database.close();
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
