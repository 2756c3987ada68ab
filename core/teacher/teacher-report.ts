import type { PriceMatch } from './price-table.js';
import { costOf } from './price-table.js';
import type { TeacherRecord } from './teacher-record.js';

/**
 * Why a teach stage is not done: its budget was reached, it was cancelled, or more examples failed
 * than `teacher.max_failure_rate` allows.
 */
export type TeachStopReason = 'budget' | 'cancelled' | 'failures';

/**
 * The teacher report (`teacher-report.json`), over every record of the output file, including those
 * of earlier, resumed runs. Keys are snake_case: people and the Python side read it.
 */
export interface TeacherReport {
  readonly teacher: { readonly plugin: string; readonly version: string; readonly provider: string; readonly model: string };
  /** The price row applied, or null when none is known (local server, recorded answers). */
  readonly price: PriceMatch | null;
  readonly splits: readonly string[];
  /** Null when every example got a record. */
  readonly stopped: TeachStopReason | null;
  /** Examples the stage was asked to label. */
  readonly examples: number;
  /** Records in the output file. */
  readonly records: number;
  /** Examples without a record yet (budget reached, cancelled): a later run does them. */
  readonly remaining: number;
  readonly parsed: number;
  readonly unparsed: number;
  /** Requests that failed after their retries; asked again by a later run. */
  readonly failed: number;
  /**
   * Hash of the failed examples' keys, null when none failed. Stages trained on a teacher stage with
   * (tolerated) failures are told apart by it: when a later run gets answers for them, they retrain.
   */
  readonly failed_digest: string | null;
  /** Answers that cost nothing new: cache hits, recordings, duplicates of a request in flight. */
  readonly cached: number;
  /** Paid requests made by this run. */
  readonly requests_this_run: number;
  /** Teacher label accuracy against gold over records with a gold label (unparsed and failed count as wrong); null without gold. */
  readonly accuracy: number | null;
  readonly examples_with_gold: number;
  /** Share of records with a rationale. */
  readonly explanation_rate: number | null;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Dollars paid for the records in the output (cached answers cost 0). */
  readonly cost_usd: number;
  /** Dollars paid by this run. */
  readonly cost_usd_this_run: number;
  /** What every answer in the output costs at list price, cached or not: the cost-to-data of the dataset. */
  readonly list_price_usd: number;
  /** Means over records with an answer. */
  readonly per_example: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly list_price_usd: number };
  /** Counts of the reasons for unparsed and failed records, most frequent first. */
  readonly reasons: Readonly<Record<string, number>>;
  /** The same for failed records alone (no answer after every retry), most frequent first. */
  readonly failed_reasons: Readonly<Record<string, number>>;
  readonly duration_seconds: number;
  /**
   * Self-consistency (`teacher.samples`): the answers the records hold, several per example, and how
   * many of them came from the cache. Absent when every record holds one answer.
   */
  readonly answers?: { readonly asked: number; readonly cached: number };
  /**
   * Confidence (`TeacherRecord.confidence`, from votes or log-probabilities): how many records have
   * one, and their mean. Absent when none has.
   */
  readonly confidence?: { readonly records: number; readonly mean: number };
}

/** The default label comparison: trimmed, whitespace-collapsed, case-insensitive, trailing full stop ignored. */
export function labelsEqual(predicted: string, gold: string): boolean {
  const normalise = (text: string) => text.trim().replace(/\s+/g, ' ').replace(/\.$/, '').toLowerCase();
  return normalise(predicted) === normalise(gold);
}

/** What a report needs besides the totals of its records. */
export interface TeacherReportContext {
  readonly teacher: TeacherReport['teacher'];
  readonly price: PriceMatch | null;
  readonly splits: readonly string[];
  readonly stopped: TeachStopReason | null;
  readonly examples: number;
  readonly requestsThisRun: number;
  readonly costThisRun: number;
  readonly durationSeconds: number;
  /** See {@link TeacherReport.failed_digest}; absent means none. */
  readonly failedDigest?: string | null;
}

/** Compares a teacher label with a gold label for the report's accuracy. */
export type LabelsMatch = (predicted: string, gold: string) => boolean;

/**
 * The running totals behind a {@link TeacherReport}, fed one record at a time. The teach stage
 * streams every record through here (those of a resumed output file, then each one it writes), so
 * its memory does not grow with the number of examples: only counts, sums and the reasons' tally
 * are kept, never the records. {@link buildTeacherReport} is the same arithmetic over a list.
 */
export class TeacherReportTotals {
  private records = 0;
  private parsed = 0;
  private unparsed = 0;
  private failed = 0;
  private cached = 0;
  /** Records with an answer (parsed or unparsed): the per-example means are over these. */
  private answered = 0;
  private withGold = 0;
  private correct = 0;
  private withRationale = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private costUsd = 0;
  /** Answers held by the records, and of those from the cache; `sampled` once a record holds several. */
  private readonly answers = { asked: 0, cached: 0, sampled: false };
  private readonly confidence = { records: 0, sum: 0 };
  /** In order of first appearance, so that equal counts keep that order once sorted. */
  private readonly reasons = new Map<string, number>();
  private readonly failedReasons = new Map<string, number>();

  /** @param labelsMatch - the label comparison for accuracy; defaults to {@link labelsEqual}. */
  constructor(private readonly labelsMatch: LabelsMatch = labelsEqual) {}

  /** Counts one record. */
  add(record: TeacherRecord): void {
    this.records++;
    if (record.parse_status === 'parsed') this.parsed++;
    else if (record.parse_status === 'unparsed') this.unparsed++;
    else this.failed++;
    if (record.parse_status !== 'failed') this.answered++;
    if (record.cached) this.cached++;
    if (record.gold_label !== null) {
      this.withGold++;
      if (record.teacher_label !== null && this.labelsMatch(record.teacher_label, record.gold_label)) this.correct++;
    }
    if (record.rationale !== null) this.withRationale++;
    this.promptTokens += record.prompt_tokens;
    this.completionTokens += record.completion_tokens;
    this.costUsd += record.cost_usd;
    if (record.reason) this.reasons.set(record.reason, (this.reasons.get(record.reason) ?? 0) + 1);
    if (record.reason && record.parse_status === 'failed')
      this.failedReasons.set(record.reason, (this.failedReasons.get(record.reason) ?? 0) + 1);
    this.countAnswers(record);
  }

  /** The answers and confidence of one record. */
  private countAnswers(record: TeacherRecord): void {
    if (record.samples) {
      this.answers.sampled = true;
      this.answers.asked += record.samples.length;
      this.answers.cached += record.samples.filter((sample) => sample.cached).length;
    } else {
      this.answers.asked++;
      if (record.cached) this.answers.cached++;
    }
    if (typeof record.confidence === 'number') {
      this.confidence.records++;
      this.confidence.sum += record.confidence;
    }
  }

  /** The report of the records added so far. */
  build(context: TeacherReportContext): TeacherReport {
    const listPrice = costOf({ promptTokens: this.promptTokens, completionTokens: this.completionTokens }, context.price);
    const mean = (total: number) => (this.answered > 0 ? total / this.answered : 0);
    return {
      teacher: context.teacher,
      price: context.price,
      splits: context.splits,
      stopped: context.stopped,
      examples: context.examples,
      records: this.records,
      remaining: Math.max(0, context.examples - this.records),
      parsed: this.parsed,
      unparsed: this.unparsed,
      failed: this.failed,
      failed_digest: context.failedDigest ?? null,
      cached: this.cached,
      requests_this_run: context.requestsThisRun,
      accuracy: this.withGold > 0 ? this.correct / this.withGold : null,
      examples_with_gold: this.withGold,
      explanation_rate: this.records > 0 ? this.withRationale / this.records : null,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      cost_usd: this.costUsd,
      cost_usd_this_run: context.costThisRun,
      list_price_usd: listPrice,
      per_example: {
        prompt_tokens: mean(this.promptTokens),
        completion_tokens: mean(this.completionTokens),
        list_price_usd: mean(listPrice),
      },
      reasons: byCount(this.reasons),
      failed_reasons: byCount(this.failedReasons),
      duration_seconds: context.durationSeconds,
      ...(this.answers.sampled ? { answers: { asked: this.answers.asked, cached: this.answers.cached } } : {}),
      ...(this.confidence.records > 0
        ? { confidence: { records: this.confidence.records, mean: this.confidence.sum / this.confidence.records } }
        : {}),
    };
  }
}

/** A tally as an object, most frequent first; a stable sort keeps equal counts in order of first appearance. */
function byCount(tally: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...tally].sort((left, right) => right[1] - left[1]));
}

/** Computes the {@link TeacherReport} of records held in memory (the teach stage streams them through {@link TeacherReportTotals}). */
export function buildTeacherReport(
  records: readonly TeacherRecord[],
  context: TeacherReportContext & { readonly labelsMatch?: LabelsMatch },
): TeacherReport {
  const totals = new TeacherReportTotals(context.labelsMatch);
  for (const record of records) totals.add(record);
  return totals.build(context);
}
