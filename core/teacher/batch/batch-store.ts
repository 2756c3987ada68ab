import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { teacherCacheError } from '../teacher-cache-error.js';
import { TeacherCache } from '../teacher-cache.js';

/**
 * Where a submission stands in the store: `submitting` from before the provider is called until its
 * batch id is stored; `running`, `ended`, `expired`, `cancelled` while the batch is at the provider
 * and not yet collected (all four are live: their requests are never submitted again); `collected`
 * once every answer is in the cache; `failed` when the provider refused the batch as a whole (its
 * requests are free to be submitted again).
 */
export type SubmissionState = 'submitting' | 'running' | 'ended' | 'expired' | 'cancelled' | 'failed' | 'collected';

/** One submission: a batch as the core asked for it, with the provider's id once known. */
export interface BatchSubmission {
  /** Random label given to the provider with the batch, to find it again when its id was never stored. */
  readonly label: string;
  readonly batchId: string | null;
  readonly state: SubmissionState;
  /** Hash of the teacher (plugin, version, provider, model, request options) whose batch API holds it. */
  readonly identity: string;
  /** The teacher in words (`openai@1.2.0 gpt-4o-mini`), for messages. */
  readonly teacher: string;
  readonly itemCount: number;
  /** Milliseconds since the epoch, just before the provider was asked. */
  readonly submittedAt: number;
  /** The provider's reason when it failed the batch as a whole. */
  readonly error: string | null;
}

/** One request of a submission. */
export interface StoredBatchItem {
  /** The `custom_id` the provider echoes with the result. */
  readonly customId: string;
  /** Where the answer goes in the teacher cache. */
  readonly cacheKey: string;
  readonly exampleId: string;
  readonly split: string;
  readonly sampleIndex: number;
}

/** The states whose requests are at the provider and not yet in the cache. */
const liveStates = "('submitting', 'running', 'ended', 'expired', 'cancelled')";

interface SubmissionRow {
  label: string;
  batch_id: string | null;
  state: SubmissionState;
  identity: string;
  teacher: string;
  item_count: number;
  submitted_at: number;
  error: string | null;
}

interface ItemRow {
  custom_id: string;
  cache_key: string;
  example_id: string;
  split: string;
  sample_index: number;
}

function submissionFromRow(row: SubmissionRow): BatchSubmission {
  return {
    label: row.label,
    batchId: row.batch_id,
    state: row.state,
    identity: row.identity,
    teacher: row.teacher,
    itemCount: row.item_count,
    submittedAt: row.submitted_at,
    error: row.error,
  };
}

/**
 * The record of batch submissions, in two tables of the teacher cache's SQLite file beside its
 * answers (which it never touches), so that a batch's id and requests are as durable as the answers
 * they will become. Each write is its own committed transaction, in the cache's WAL mode: once a
 * method returns, what it wrote survives `kill -9` (see {@link TeacherCache} on durability).
 *
 * The order the batch flow keeps is what makes a kill at any point safe: the submission and its items
 * are written before the provider is called; the provider's id the moment the call returns (a kill
 * between the two leaves a `submitting` row, which the next run looks up by its label); answers are
 * committed to the cache before the submission is marked `collected`.
 */
export class BatchStore {
  private constructor(private readonly database: Database.Database) {
    this.database.exec(`
      CREATE TABLE IF NOT EXISTS batch_submissions (
        label TEXT PRIMARY KEY,
        batch_id TEXT,
        state TEXT NOT NULL,
        identity TEXT NOT NULL,
        teacher TEXT NOT NULL,
        item_count INTEGER NOT NULL,
        submitted_at INTEGER NOT NULL,
        error TEXT
      );
      CREATE INDEX IF NOT EXISTS batch_submissions_batch_id ON batch_submissions (batch_id);
      CREATE TABLE IF NOT EXISTS batch_items (
        label TEXT NOT NULL,
        custom_id TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        example_id TEXT NOT NULL,
        split TEXT NOT NULL,
        sample_index INTEGER NOT NULL,
        -- 1 once a teacher record has counted this request's answer as paid (see markRecorded).
        recorded INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (label, custom_id)
      );
      CREATE INDEX IF NOT EXISTS batch_items_cache_key ON batch_items (cache_key);
    `);
  }

  /** The batch store of a teacher cache's file (its tables are created when missing). */
  static of(cache: TeacherCache): BatchStore {
    return guarded(cache.file, () => new BatchStore(cache.database));
  }

  /** Writes a submission (state `submitting`) and its items in one transaction, before the provider is called. */
  begin(submission: Omit<BatchSubmission, 'batchId' | 'state' | 'error'>, items: readonly StoredBatchItem[]): void {
    const insertSubmission = this.database.prepare(
      `INSERT INTO batch_submissions (label, batch_id, state, identity, teacher, item_count, submitted_at, error)
       VALUES (?, NULL, 'submitting', ?, ?, ?, ?, NULL)`,
    );
    const insertItem = this.database.prepare(
      'INSERT INTO batch_items (label, custom_id, cache_key, example_id, split, sample_index) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.database.transaction(() => {
      insertSubmission.run(
        submission.label,
        submission.identity,
        submission.teacher,
        submission.itemCount,
        Math.round(submission.submittedAt),
      );
      for (const item of items)
        insertItem.run(submission.label, item.customId, item.cacheKey, item.exampleId, item.split, item.sampleIndex);
    })();
  }

  /** Writes a submission as it was recorded elsewhere (a cache being repaired), with its items; one already here is kept. */
  restore(submission: BatchSubmission, items: readonly StoredBatchItem[]): void {
    const insertSubmission = this.database.prepare(
      `INSERT OR IGNORE INTO batch_submissions (label, batch_id, state, identity, teacher, item_count, submitted_at, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertItem = this.database.prepare(
      'INSERT OR IGNORE INTO batch_items (label, custom_id, cache_key, example_id, split, sample_index) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.database.transaction(() => {
      const { label } = submission;
      insertSubmission.run(
        label,
        submission.batchId,
        submission.state,
        submission.identity,
        submission.teacher,
        submission.itemCount,
        submission.submittedAt,
        submission.error,
      );
      for (const item of items) insertItem.run(label, item.customId, item.cacheKey, item.exampleId, item.split, item.sampleIndex);
    })();
  }

  /** Stores the provider's id of a submission: it is then `running`. */
  setBatchId(label: string, batchId: string): void {
    this.database.prepare("UPDATE batch_submissions SET batch_id = ?, state = 'running' WHERE label = ?").run(batchId, label);
  }

  /** Moves a submission to another state, with the provider's reason when it failed. */
  setState(label: string, state: SubmissionState, error: string | null = null): void {
    this.database.prepare('UPDATE batch_submissions SET state = ?, error = ? WHERE label = ?').run(state, error, label);
  }

  /** Removes a submission and its items: its requests are free to be submitted again. */
  forget(label: string): void {
    this.database.transaction(() => {
      this.database.prepare('DELETE FROM batch_items WHERE label = ?').run(label);
      this.database.prepare('DELETE FROM batch_submissions WHERE label = ?').run(label);
    })();
  }

  /** The submissions of one teacher that are at the provider and not yet collected (`submitting` ones included), oldest first. */
  liveSubmissions(identity: string): BatchSubmission[] {
    return this.database
      .prepare<[string], SubmissionRow>(
        `SELECT * FROM batch_submissions WHERE identity = ? AND state IN ${liveStates} ORDER BY submitted_at, label`,
      )
      .all(identity)
      .map(submissionFromRow);
  }

  /** The submission of a provider batch id, or null. */
  byBatchId(batchId: string): BatchSubmission | null {
    const row = this.database.prepare<[string], SubmissionRow>('SELECT * FROM batch_submissions WHERE batch_id = ?').get(batchId);
    return row ? submissionFromRow(row) : null;
  }

  /** Every provider batch id on record (any teacher, any state): no unnamed submission is one of them. */
  batchIds(): Set<string> {
    const rows = this.database.prepare<[], { batch_id: string }>('SELECT batch_id FROM batch_submissions WHERE batch_id IS NOT NULL').all();
    return new Set(rows.map((row) => row.batch_id));
  }

  /** The cache keys that live submissions hold, with the label of the one holding each. */
  liveKeys(): Map<string, string> {
    const rows = this.database
      .prepare<[], { cache_key: string; label: string }>(
        `SELECT batch_items.cache_key, batch_items.label FROM batch_items
         JOIN batch_submissions ON batch_submissions.label = batch_items.label
         WHERE batch_submissions.state IN ${liveStates}`,
      )
      .all();
    return new Map(rows.map((row) => [row.cache_key, row.label]));
  }

  /** The items of a submission. */
  items(label: string): StoredBatchItem[] {
    return this.database
      .prepare<[string], ItemRow>('SELECT custom_id, cache_key, example_id, split, sample_index FROM batch_items WHERE label = ?')
      .all(label)
      .map((row) => ({
        customId: row.custom_id,
        cacheKey: row.cache_key,
        exampleId: row.example_id,
        split: row.split,
        sampleIndex: row.sample_index,
      }));
  }

  /**
   * Whether a batch paid for the cached answer of this request and no record has counted it yet (a
   * run killed after collecting it, before writing its record): such an answer is counted as paid by
   * the next record written from it, and {@link markRecorded} then says so.
   */
  isUnrecorded(cacheKey: string): boolean {
    return this.database.prepare('SELECT 1 FROM batch_items WHERE cache_key = ? AND recorded = 0 LIMIT 1').get(cacheKey) !== undefined;
  }

  /**
   * Marks the batch-paid answers of these requests as counted, once a record counting them is in the
   * output. Marking before the record is written would lose the payment to a kill between the two
   * (the next run would take the answer for a free cache hit); marking after can at worst count it
   * twice, in another output, if the kill falls between the record and this mark.
   */
  markRecorded(cacheKeys: readonly string[]): void {
    if (cacheKeys.length === 0) return;
    const mark = this.database.prepare('UPDATE batch_items SET recorded = 1 WHERE cache_key = ? AND recorded = 0');
    this.database.transaction(() => {
      for (const key of cacheKeys) mark.run(key);
    })();
  }

  /**
   * Another submission, failed as a whole by the provider, that held any request of this one: a
   * second whole-batch failure of the same requests then stops the stage rather than looping.
   */
  earlierFailure(label: string): BatchSubmission | null {
    const row = this.database
      .prepare<[string, string], SubmissionRow>(
        `SELECT * FROM batch_submissions WHERE state = 'failed' AND label != ? AND label IN (
           SELECT label FROM batch_items WHERE cache_key IN (SELECT cache_key FROM batch_items WHERE label = ?)
         ) ORDER BY submitted_at DESC LIMIT 1`,
      )
      .get(label, label);
    return row ? submissionFromRow(row) : null;
  }
}

/** Runs `work`, with SQLite's errors told as the cache's `TeacherCacheError`s. */
function guarded<Result>(file: string, work: () => Result): Result {
  try {
    return work();
  } catch (error) {
    throw teacherCacheError(file, error);
  }
}

/**
 * Forgets a batch (`distill cache forget-batch`): removes its submission so that the requests it
 * held and that are not answered yet are submitted again by the next run. Answers already collected
 * are in the cache's answers table and stay there. Returns the submission forgotten, or null when the
 * store holds no batch of that id.
 */
export function forgetBatch(cache: TeacherCache, batchId: string): BatchSubmission | null {
  return guarded(cache.file, () => {
    const store = BatchStore.of(cache);
    const submission = store.byBatchId(batchId);
    if (submission) store.forget(submission.label);
    return submission;
  });
}

/** What `distill cache forget-batch` did. */
export interface ForgetBatchResult {
  readonly file: string;
  readonly batchId: string;
  /** The submission forgotten, or null when the cache holds no batch of that id (nothing to do). */
  readonly forgotten: BatchSubmission | null;
}

/**
 * `distill cache forget-batch`: {@link forgetBatch} in the cache file at `file`. A missing file holds
 * no batch, and is not created.
 */
export function forgetBatchInFile(file: string, batchId: string): ForgetBatchResult {
  if (!existsSync(file)) return { file, batchId, forgotten: null };
  const cache = TeacherCache.open(file);
  try {
    return { file, batchId, forgotten: forgetBatch(cache, batchId) };
  } finally {
    cache.close();
  }
}

/**
 * Copies the batch record of a cache being repaired (`distill cache repair`) into its repaired copy,
 * so that batches still at the provider are collected after the repair rather than submitted again.
 * Reads what it can: a cache without batch tables has nothing to copy, and rows SQLite cannot read
 * are left behind (their requests are then submitted again, as after `cache forget-batch`). Returns
 * the submissions copied.
 */
export function copyBatchRecord(source: Database.Database, target: TeacherCache): number {
  const store = BatchStore.of(target);
  let submissions: SubmissionRow[];
  let items: (ItemRow & { label: string })[];
  try {
    submissions = source.prepare<[], SubmissionRow>('SELECT * FROM batch_submissions').all();
    items = source.prepare<[], ItemRow & { label: string }>('SELECT * FROM batch_items').all();
  } catch {
    // No batch tables (a cache from before batch mode), or tables too damaged to read.
    return 0;
  }
  const byLabel = new Map<string, (ItemRow & { label: string })[]>();
  for (const item of items) {
    const group = byLabel.get(item.label);
    if (group) group.push(item);
    else byLabel.set(item.label, [item]);
  }
  for (const row of submissions) {
    store.restore(
      submissionFromRow(row),
      (byLabel.get(row.label) ?? []).map((item) => ({
        customId: item.custom_id,
        cacheKey: item.cache_key,
        exampleId: item.example_id,
        split: item.split,
        sampleIndex: item.sample_index,
      })),
    );
  }
  return submissions.length;
}
