import type { PriceMatch } from './price-table.js';
import { costOf } from './price-table.js';
import type { TeacherRecord } from './teacher-record.js';

/** Why a teach stage ended before every example had an answer. */
export type TeachStopReason = 'budget' | 'cancelled';

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
  readonly duration_seconds: number;
}

/** The default label comparison: trimmed, whitespace-collapsed, case-insensitive, trailing full stop ignored. */
export function labelsEqual(predicted: string, gold: string): boolean {
  const normalise = (text: string) => text.trim().replace(/\s+/g, ' ').replace(/\.$/, '').toLowerCase();
  return normalise(predicted) === normalise(gold);
}

/** What {@link buildTeacherReport} needs besides the records. */
export interface TeacherReportContext {
  readonly teacher: TeacherReport['teacher'];
  readonly price: PriceMatch | null;
  readonly splits: readonly string[];
  readonly stopped: TeachStopReason | null;
  readonly examples: number;
  readonly requestsThisRun: number;
  readonly costThisRun: number;
  readonly durationSeconds: number;
  readonly labelsMatch?: (predicted: string, gold: string) => boolean;
}

/** Computes the {@link TeacherReport} of a set of records. */
export function buildTeacherReport(records: readonly TeacherRecord[], context: TeacherReportContext): TeacherReport {
  const labelsMatch = context.labelsMatch ?? labelsEqual;
  const count = (predicate: (record: TeacherRecord) => boolean) => records.filter(predicate).length;
  const withGold = records.filter((record) => record.gold_label !== null);
  const correct = withGold.filter((record) => record.teacher_label !== null && labelsMatch(record.teacher_label, record.gold_label!)).length;
  const answered = records.filter((record) => record.parse_status !== 'failed');
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const promptTokens = sum(records.map((record) => record.prompt_tokens));
  const completionTokens = sum(records.map((record) => record.completion_tokens));
  const listPrice = costOf({ promptTokens, completionTokens }, context.price);
  const reasons: Record<string, number> = {};
  for (const record of records) if (record.reason) reasons[record.reason] = (reasons[record.reason] ?? 0) + 1;
  const sortedReasons = Object.fromEntries(Object.entries(reasons).sort((left, right) => right[1] - left[1]));
  const mean = (total: number) => (answered.length > 0 ? total / answered.length : 0);
  return {
    teacher: context.teacher,
    price: context.price,
    splits: context.splits,
    stopped: context.stopped,
    examples: context.examples,
    records: records.length,
    remaining: Math.max(0, context.examples - records.length),
    parsed: count((record) => record.parse_status === 'parsed'),
    unparsed: count((record) => record.parse_status === 'unparsed'),
    failed: count((record) => record.parse_status === 'failed'),
    cached: count((record) => record.cached),
    requests_this_run: context.requestsThisRun,
    accuracy: withGold.length > 0 ? correct / withGold.length : null,
    examples_with_gold: withGold.length,
    explanation_rate: records.length > 0 ? count((record) => record.rationale !== null) / records.length : null,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    cost_usd: sum(records.map((record) => record.cost_usd)),
    cost_usd_this_run: context.costThisRun,
    list_price_usd: listPrice,
    per_example: { prompt_tokens: mean(promptTokens), completion_tokens: mean(completionTokens), list_price_usd: mean(listPrice) },
    reasons: sortedReasons,
    duration_seconds: context.durationSeconds,
  };
}
