import { performance } from 'node:perf_hooks';
import type { ConfidenceKind } from '../../calibration/calibration-file.js';
import type { Prediction, PredictOptions } from '../../inference/load-student.js';
import type { FallbackTeacher, TeacherAnswer } from './fallback-teacher.js';
import type { ReviewQueue } from './review-queue.js';
import type { AnswerSource, ServingMetrics } from './serving-metrics.js';

/** What to answer when the teacher fails: an error (default), or the student's answer marked as such. */
export type TeacherFailurePolicy = 'error' | 'student';

/** One answer of fallback serving. */
export interface FallbackPrediction {
  readonly label: string;
  readonly rationale?: string;
  readonly source: AnswerSource;
  /**
   * The student's confidence in its answer, of the calibration's kind: its label's probability among
   * the allowed labels, or (open answers) its answer's mean token log-probability. Null when the
   * student gave none, which counts as unsure.
   */
  readonly confidence: number | null;
  readonly threshold: number;
  /** Present (true) when the teacher was asked, failed, and the student's answer was sent instead. */
  readonly fallback_failed?: true;
}

/** Why a request could not be answered: the teacher failed and the policy is `error`. */
export interface TeacherFailure {
  readonly kind: 'teacher-failed';
  /** 503 when the budget is spent, 502 when the teacher failed after its retries. */
  readonly status: 502 | 503;
  readonly reason: string;
}

/** How the router decides and records. */
export interface FallbackRouterOptions {
  readonly teacher: FallbackTeacher;
  /** What the threshold is on: the calibration's kind of confidence. */
  readonly confidence: ConfidenceKind;
  readonly threshold: number;
  readonly metrics: ServingMetrics;
  readonly review: ReviewQueue;
  readonly onTeacherFailure: TeacherFailurePolicy;
  /** Share (0 to 1) of student-answered texts also sent to the teacher after the response. */
  readonly shadow: number;
  /** Where the drop below target is said (one line). */
  readonly warn: (line: string) => void;
  /** Source of the shadow draws (tests may fix it). */
  readonly random?: () => number;
}

/**
 * Student first, teacher as fallback: texts whose student confidence is at or above the threshold
 * get the student's answer; the others are asked of the teacher, all at once (the request engine
 * bounds the concurrency). Every teacher answer goes to the review queue. With a shadow share, some
 * student answers are also asked of the teacher once the response is sent, and compared.
 */
export class FallbackRouter {
  private readonly shadows = new Set<Promise<void>>();
  private readonly random: () => number;

  constructor(private readonly options: FallbackRouterOptions) {
    this.random = options.random ?? Math.random;
  }

  /**
   * What the student is asked for, besides the request's own options, so that its predictions carry
   * the calibrated confidence: every allowed label scored, or the answer's mean token log-probability.
   */
  studentOptions(): PredictOptions {
    const { confidence, teacher } = this.options;
    return confidence === 'label-probability' ? { scoreLabels: true, labels: teacher.labels ?? [] } : { answerLogProbability: true };
  }

  /** The student's confidence of the calibrated kind (null when the prediction has none). */
  private confidenceOf(prediction: Prediction): number | null {
    const value = this.options.confidence === 'label-probability' ? prediction.confidence : prediction.meanLogProbability;
    return value === undefined || Number.isNaN(value) ? null : value;
  }

  /**
   * The answers for `texts`, given the student's predictions with confidences (in the same order), or
   * the teacher's failure. `arrival` is the request's `performance.now()` when it came, for latencies.
   */
  async answer(texts: readonly string[], student: readonly Prediction[], arrival: number): Promise<FallbackPrediction[] | TeacherFailure> {
    const { threshold, teacher, metrics, review } = this.options;
    const confidences = student.map((prediction) => this.confidenceOf(prediction));
    const confident = confidences.map((confidence) => confidence !== null && confidence >= threshold);
    const asked = await Promise.all(texts.map((text, index) => (confident[index] ? Promise.resolve(null) : teacher.ask(text))));
    const answers: FallbackPrediction[] = [];
    let failure: TeacherFailure | undefined;
    for (const [index, text] of texts.entries()) {
      const prediction = student[index]!;
      const confidence = confidences[index] ?? null;
      const own: FallbackPrediction = {
        label: prediction.label,
        ...(prediction.rationale !== undefined ? { rationale: prediction.rationale } : {}),
        source: 'student',
        confidence,
        threshold,
      };
      const teacherAnswer = asked[index];
      if (!teacherAnswer) {
        answers.push(own);
        continue;
      }
      if (teacherAnswer.status === 'failed') {
        metrics.teacherFailed(teacherAnswer.cause);
        failure ??= { kind: 'teacher-failed', status: teacherAnswer.cause === 'budget' ? 503 : 502, reason: teacherAnswer.reason };
        answers.push({ ...own, fallback_failed: true });
        continue;
      }
      review.append({
        kind: 'fallback',
        time: new Date().toISOString(),
        input: text,
        student_label: prediction.label,
        student_confidence: confidence,
        teacher_label: teacherAnswer.label,
        teacher_rationale: teacherAnswer.rationale,
        source: 'teacher',
      });
      answers.push({
        label: teacherAnswer.label,
        ...(teacherAnswer.rationale !== null ? { rationale: teacherAnswer.rationale } : {}),
        source: 'teacher',
        confidence,
        threshold,
      });
    }
    if (failure && this.options.onTeacherFailure === 'error') return failure;
    const seconds = (performance.now() - arrival) / 1000;
    for (const answer of answers) metrics.answered(answer.source, seconds);
    return answers;
  }

  /**
   * Sends the drawn share of the student-answered texts to the teacher, after the response (never
   * delaying it), and compares: a disagreement goes to the review queue, and the live agreement to
   * the metrics (with one warning line when its window falls below the target).
   */
  shadow(texts: readonly string[], answers: readonly FallbackPrediction[]): void {
    const { shadow } = this.options;
    if (shadow <= 0) return;
    for (const [index, answer] of answers.entries()) {
      if (answer.source !== 'student' || answer.fallback_failed || this.random() >= shadow) continue;
      const running = this.compare(texts[index]!, answer)
        // Nobody awaits a shadow: a failure (the review file's disk full) is said, never left unhandled.
        .catch((error: unknown) => this.options.warn(`warning: a shadow comparison failed: ${(error as Error).message}`))
        .finally(() => this.shadows.delete(running));
      this.shadows.add(running);
    }
  }

  /** Resolves once every shadow request sent so far has ended. */
  async whenShadowsDone(): Promise<void> {
    while (this.shadows.size > 0) await Promise.all([...this.shadows]);
  }

  private async compare(text: string, answer: FallbackPrediction): Promise<void> {
    const { teacher, metrics, review, warn } = this.options;
    const teacherAnswer: TeacherAnswer = await teacher.ask(text);
    if (teacherAnswer.status === 'failed') {
      metrics.teacherFailed(teacherAnswer.cause);
      return;
    }
    const agree = teacher.agrees(answer.label, teacherAnswer.label);
    if (!agree) {
      review.append({
        kind: 'shadow-disagreement',
        time: new Date().toISOString(),
        input: text,
        student_label: answer.label,
        student_confidence: answer.confidence,
        teacher_label: teacherAnswer.label,
        teacher_rationale: teacherAnswer.rationale,
        source: 'student',
      });
    }
    if (metrics.shadowCompared(agree)) {
      const live = metrics.shadowAgreement();
      warn(
        `warning: live shadow agreement ${live.windowAgreement?.toFixed(3)} over the last ${live.windowCompared} shadowed answers (window ${live.windowSize}) is below the target ${metrics.target}; see /metrics and the review file`,
      );
    }
  }
}
