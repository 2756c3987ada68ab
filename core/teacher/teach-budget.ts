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
    /** Whether an example's samples were asked in one request (`TeacherAccounting.samplesShareOnePrompt`). */
    private readonly samplesShareOnePrompt = false,
  ) {}

  /**
   * Counts a record an earlier run wrote (read on resume). A record of several samples counts one
   * request per answer paid for, or one in all when its answers shared a request (OpenAI's `n`; a
   * record whose missing samples were asked in two rounds then counts one request too few).
   */
  countResumed(record: TeacherRecord): void {
    this.spent += record.cost_usd;
    if (record.samples) {
      const paid = record.samples.filter((sample) => !sample.cached).length;
      this.paidRequests += this.samplesShareOnePrompt ? Math.min(paid, 1) : paid;
    } else if (!record.cached) this.paidRequests++;
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

  /**
   * Batch mode: whether one more request may be submitted, its estimated cost (counted prompt tokens
   * plus `max_tokens`) counted at once when it may, so that the budget counts work submitted and not
   * yet answered. {@link TeachBudget.settle} later puts the real cost in its place.
   */
  admitSubmitted(estimatedCost: number): boolean {
    if (!this.admit()) return false;
    this.spent += estimatedCost;
    return true;
  }

  /** Batch mode, on resume: counts a request an earlier run submitted and nobody has collected yet. */
  countSubmitted(estimatedCost: number): void {
    this.paidRequests++;
    this.spent += estimatedCost;
  }

  /**
   * Batch mode: a submitted request has ended. Answered (`usage`), its real cost replaces the estimate;
   * refused (null), it cost nothing but still counts as a request, as a failed real-time request does.
   */
  settle(estimatedCost: number, usage: TokenUsage | null): void {
    this.spent -= estimatedCost;
    if (usage) this.pay(usage);
  }

  /** Batch mode: a submitted request got no result (an expired batch) and will be submitted again: it is uncounted. */
  release(estimatedCost: number): void {
    this.spent -= estimatedCost;
    this.paidRequests--;
  }

  /** What an answer of this usage costs at the price applied. */
  costOf(usage: TokenUsage): number {
    return costOf(usage, this.price);
  }
}
