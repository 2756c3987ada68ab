/** Who answered a prediction: the student, or the teacher it fell back to. */
export type AnswerSource = 'student' | 'teacher';

/** Upper bounds (seconds) of the latency histogram's buckets: a student answers in milliseconds, a teacher in seconds. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** Latencies of one source as a Prometheus histogram: counts per bucket (not cumulative), sum and count. */
class LatencyHistogram {
  readonly counts = latencyBuckets.map(() => 0);
  overflow = 0;
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    const index = latencyBuckets.findIndex((bound) => seconds <= bound);
    if (index === -1) this.overflow++;
    else this.counts[index]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** Agreement of the shadow comparisons: overall, and over the last `window` of them. */
export interface ShadowAgreement {
  readonly compared: number;
  readonly agreed: number;
  /** The last `window` comparisons' agreement, null before any. */
  readonly windowAgreement: number | null;
  readonly windowSize: number;
  /** Comparisons the window holds now (at most `windowSize`). */
  readonly windowCompared: number;
}

/** A number in Prometheus' text format (which spells infinities `+Inf`/`-Inf`). */
function sample(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * The counters of fallback serving, rendered by hand in the Prometheus text exposition format
 * (version 0.0.4): requests and latency by source, shadow agreement, teacher spend and failures.
 * Kept in memory; they start at 0 with the server, as Prometheus counters may.
 */
export class ServingMetrics {
  private readonly answers: Record<AnswerSource, number> = { student: 0, teacher: 0 };
  private readonly latency: Record<AnswerSource, LatencyHistogram> = { student: new LatencyHistogram(), teacher: new LatencyHistogram() };
  private readonly failures = new Map<string, number>();
  private spendDollars = 0;
  private promptTokens = 0;
  private completionTokens = 0;
  private compared = 0;
  private agreed = 0;
  private readonly window: boolean[] = [];
  /** Set once the window's agreement has fallen below the target; cleared when it is back. */
  private belowTarget = false;

  /**
   * @param target - the agreement the threshold was calibrated for; the shadow window is held to it.
   * @param windowSize - shadow comparisons the live agreement is taken over.
   */
  constructor(
    readonly target: number,
    readonly windowSize: number,
  ) {}

  /** One prediction answered by `source`, `seconds` after its request arrived. */
  answered(source: AnswerSource, seconds: number): void {
    this.answers[source]++;
    this.latency[source].observe(seconds);
  }

  /** A teacher request that ended without an answer, by why (`failed`, `budget`). */
  teacherFailed(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  /** What a paid teacher call cost. */
  paid(usage: { readonly promptTokens: number; readonly completionTokens: number }, dollars: number): void {
    this.promptTokens += usage.promptTokens;
    this.completionTokens += usage.completionTokens;
    this.spendDollars += dollars;
  }

  /**
   * A shadow comparison of a student answer with the teacher's. Returns true when this one takes the
   * window's agreement below the target (once, until it is back), so the caller can log it once.
   */
  shadowCompared(agree: boolean): boolean {
    this.compared++;
    if (agree) this.agreed++;
    this.window.push(agree);
    if (this.window.length > this.windowSize) this.window.shift();
    const agreement = this.shadowAgreement().windowAgreement ?? 1;
    const below = agreement < this.target;
    const fell = below && !this.belowTarget;
    this.belowTarget = below;
    return fell;
  }

  /** The shadow comparisons so far. */
  shadowAgreement(): ShadowAgreement {
    const windowAgreed = this.window.filter(Boolean).length;
    return {
      compared: this.compared,
      agreed: this.agreed,
      windowAgreement: this.window.length === 0 ? null : windowAgreed / this.window.length,
      windowSize: this.windowSize,
      windowCompared: this.window.length,
    };
  }

  /** Predictions answered so far, by source. */
  answerCounts(): Readonly<Record<AnswerSource, number>> {
    return { ...this.answers };
  }

  /** The metrics in the Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family('distill_predictions_total', 'counter', 'Predictions answered, by who answered them (student or teacher).');
    for (const source of ['student', 'teacher'] as const)
      lines.push(`distill_predictions_total{source="${source}"} ${this.answers[source]}`);
    family('distill_prediction_latency_seconds', 'histogram', 'Time from a request arriving to its prediction being ready, by source.');
    for (const source of ['student', 'teacher'] as const) {
      const histogram = this.latency[source];
      let cumulative = 0;
      latencyBuckets.forEach((bound, index) => {
        cumulative += histogram.counts[index]!;
        lines.push(`distill_prediction_latency_seconds_bucket{source="${source}",le="${bound}"} ${cumulative}`);
      });
      lines.push(`distill_prediction_latency_seconds_bucket{source="${source}",le="+Inf"} ${histogram.count}`);
      lines.push(`distill_prediction_latency_seconds_sum{source="${source}"} ${sample(histogram.sum)}`);
      lines.push(`distill_prediction_latency_seconds_count{source="${source}"} ${histogram.count}`);
    }
    family(
      'distill_teacher_failures_total',
      'counter',
      'Teacher requests that ended without an answer, by reason (failed after retries, budget spent).',
    );
    for (const reason of ['failed', 'budget'])
      lines.push(`distill_teacher_failures_total{reason="${reason}"} ${this.failures.get(reason) ?? 0}`);
    family(
      'distill_teacher_spend_dollars_total',
      'counter',
      "Dollars paid to the teacher (the engine's usage at the price table's price).",
    );
    lines.push(`distill_teacher_spend_dollars_total ${sample(this.spendDollars)}`);
    family('distill_teacher_tokens_total', 'counter', 'Tokens billed by the teacher, by kind.');
    lines.push(`distill_teacher_tokens_total{kind="prompt"} ${this.promptTokens}`);
    lines.push(`distill_teacher_tokens_total{kind="completion"} ${this.completionTokens}`);
    const shadow = this.shadowAgreement();
    family(
      'distill_shadow_comparisons_total',
      'counter',
      'Student answers also sent to the teacher (--shadow), by whether the teacher agreed.',
    );
    lines.push(`distill_shadow_comparisons_total{agreed="true"} ${shadow.agreed}`);
    lines.push(`distill_shadow_comparisons_total{agreed="false"} ${shadow.compared - shadow.agreed}`);
    family('distill_shadow_agreement', 'gauge', `Agreement of the last ${this.windowSize} shadow comparisons (NaN before any).`);
    lines.push(`distill_shadow_agreement ${shadow.windowAgreement === null ? 'NaN' : sample(shadow.windowAgreement)}`);
    family('distill_agreement_target', 'gauge', 'The agreement target the threshold was calibrated for.');
    lines.push(`distill_agreement_target ${this.target}`);
    family('distill_shadow_agreement_below_target', 'gauge', '1 while the windowed shadow agreement is below the target, else 0.');
    lines.push(`distill_shadow_agreement_below_target ${this.belowTarget ? 1 : 0}`);
    return lines.join('\n') + '\n';
  }
}
