import type { TokenUsage } from '../plugins/kinds/teacher.js';
import { costOf, type PriceMatch } from './price-table.js';
import type { TeacherRecord } from './teacher-record.js';

/** The pipeline's `budget` block. */
export interface BudgetLimits {
  readonly max_usd?: number;
  readonly max_requests?: number;
}

/**
 * The teach stage's spend, across resumed runs: what the records of the output already paid, and
 * what this run pays. `max_usd` and `max_requests` cap the stage, not one invocation (a request and
 * its retries count as one request; dollars are known only when an answer arrives, so requests
 * already in flight when the limit is crossed may add up to `concurrency - 1` answers more).
 */
export class TeachBudget {
  /** Dollars paid for the records of the output, this run's included. */
  spent = 0;
  private paidRequests = 0;
  /** Paid requests of this run. */
  requestsThisRun = 0;
  /** Dollars paid by this run. */
  costThisRun = 0;

  constructor(
    private readonly limits: BudgetLimits,
    /** The price applied to every answer (null: none known, answers cost 0). */
    readonly price: PriceMatch | null,
  ) {}

  /** Counts a record an earlier run wrote (read on resume). */
  countResumed(record: TeacherRecord): void {
    this.spent += record.cost_usd;
    if (!record.cached) this.paidRequests++;
  }

  /** Whether a new paid request may start; when it may, it is counted at once. */
  admit(): boolean {
    const { max_usd: maxUsd, max_requests: maxRequests } = this.limits;
    if ((maxUsd !== undefined && this.spent >= maxUsd) || (maxRequests !== undefined && this.paidRequests >= maxRequests)) return false;
    this.paidRequests++;
    return true;
  }

  /** Counts the cost of a paid answer, before the next request is admitted. */
  pay(usage: TokenUsage): void {
    const cost = this.costOf(usage);
    this.spent += cost;
    this.costThisRun += cost;
    this.requestsThisRun++;
  }

  /** What an answer of this usage costs at the price applied. */
  costOf(usage: TokenUsage): number {
    return costOf(usage, this.price);
  }
}
