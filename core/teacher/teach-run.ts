import { canonicalHash } from '../canonical-json.js';
import type { DatasetExample } from '../plugins/kinds/dataset.js';
import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { EngineOutcome } from './request-engine.js';
import type { TeachBudget } from './teach-budget.js';
import { recordKey, type TeacherOutputWriter } from './teacher-output.js';
import type { TeacherRecord } from './teacher-record.js';
import { TeacherReportTotals, type TeacherReport, type TeacherReportContext, type TeachStopReason } from './teacher-report.js';

/**
 * The state of one teach stage run: what the output holds (resumed records and those written now),
 * the report's running totals, the counts the progress line shows, the failed examples, and what
 * stops the run. Records are streamed, never held: only keys, counts and totals are kept, so memory
 * does not grow with the number of examples. The output may also hold other splits (labelled by
 * another invocation): they count towards the budget, but the report is on the requested splits only.
 */
export class TeachRun {
  private readonly totals: TeacherReportTotals;
  private readonly splitNames: ReadonlySet<string>;
  private recordsInOutput = 0;
  private resumedRecords = 0;
  private readonly counts = { cached: 0, failed: 0, skipped: 0 };
  /** Keys of the examples that failed in this run (those of earlier runs were dropped and asked again). */
  private readonly failedKeys: string[] = [];
  private budgetReached = false;
  /**
   * What ends the run with an error once the requests in flight are done (a rejected key, a cache that
   * cannot be written): the first one, held in an object so that any thrown value counts, even a falsy one.
   */
  fatal: { readonly error: unknown } | null = null;
  /** Examples the stage was asked to label. */
  total = 0;
  readonly started: number;

  constructor(
    splits: readonly string[],
    labelsMatch: ((predicted: string, gold: string) => boolean) | undefined,
    readonly budget: TeachBudget,
    private readonly events: EventStream,
    private readonly clock: Clock,
  ) {
    this.totals = new TeacherReportTotals(labelsMatch);
    this.splitNames = new Set(splits);
    this.started = clock.now();
  }

  /** Counts a record an earlier run wrote. */
  resumed(record: TeacherRecord): void {
    this.count(record);
    this.resumedRecords++;
    this.budget.countResumed(record);
  }

  private count(record: TeacherRecord): void {
    this.recordsInOutput++;
    if (record.cached) this.counts.cached++;
    if (this.splitNames.has(record.split)) this.totals.add(record);
  }

  /**
   * Writes the record of an answered or failed example, counts it, and tells the event stream.
   * `outcomes` are its requests' (one per sample); the event of an example with several answers is
   * `teacher.request` when any of them was paid for now, with the record's summed tokens.
   */
  write(writer: TeacherOutputWriter, example: DatasetExample, outcomes: readonly EngineOutcome[], record: TeacherRecord | null): void {
    if (record === null) {
      // Skipped: no record, so the next run asks again; over budget, the report says so.
      if (outcomes.some((outcome) => outcome.status === 'skipped' && outcome.reason === 'budget')) {
        this.counts.skipped++;
        this.budgetReached = true;
      }
      return;
    }
    writer.append(record);
    this.count(record);
    const where = { example: example.id, split: example.split };
    const attempts = outcomes.reduce((total, outcome) => total + (outcome.status === 'skipped' ? 0 : outcome.attempts), 0);
    if (record.parse_status === 'failed') {
      this.counts.failed++;
      this.failedKeys.push(recordKey(example.split, example.id));
      this.events.emit('teacher.failed', { ...where, reason: record.reason, attempts });
    } else {
      this.events.emit(record.cached ? 'teacher.cached' : 'teacher.request', {
        ...where,
        status: record.parse_status,
        prompt_tokens: record.prompt_tokens,
        completion_tokens: record.completion_tokens,
        cost_usd: record.cost_usd,
        attempts,
        ...(outcomes.length > 1 ? { samples: outcomes.length } : {}),
      });
    }
  }

  /** The `teacher.progress` event. */
  progress(): void {
    const { budget } = this;
    this.events.emit('teacher.progress', {
      done: this.recordsInOutput,
      total: this.total,
      cached: this.counts.cached,
      failed: this.counts.failed,
      skipped: this.counts.skipped,
      dollars: budget.spent,
      dollars_this_run: budget.costThisRun,
      done_this_run: this.recordsInOutput - this.resumedRecords,
      elapsed_ms: this.clock.now() - this.started,
    });
  }

  /** Why the stage is not done, if it is not: cancelled, over budget, or more failures than `maxFailureRate` allows. */
  stopReason(cancelled: boolean, maxFailureRate: number): TeachStopReason | null {
    if (cancelled) return 'cancelled';
    if (this.budgetReached) return 'budget';
    const failedShare = this.total > 0 ? this.failedKeys.length / this.total : 0;
    return failedShare > maxFailureRate ? 'failures' : null;
  }

  /** The report of the output's records on the requested splits. */
  report(
    context: Omit<TeacherReportContext, 'examples' | 'requestsThisRun' | 'costThisRun' | 'durationSeconds' | 'failedDigest'>,
  ): TeacherReport {
    return this.totals.build({
      ...context,
      examples: this.total,
      requestsThisRun: this.budget.requestsThisRun,
      costThisRun: this.budget.costThisRun,
      durationSeconds: (this.clock.now() - this.started) / 1000,
      failedDigest: this.failedKeys.length > 0 ? canonicalHash([...this.failedKeys].sort()) : null,
    });
  }
}
