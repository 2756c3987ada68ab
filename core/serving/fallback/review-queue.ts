import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Name of the review file when `--review-file` is not given: beside the calibration, in the model folder. */
export const defaultReviewFileName = 'review-queue.jsonl';

/** One line of the review file. */
export interface ReviewRecord {
  /** `fallback`: the teacher answered because the student was unsure; `shadow-disagreement`: a shadowed student answer the teacher contradicted. */
  readonly kind: 'fallback' | 'shadow-disagreement';
  readonly time: string;
  /** The text as the client sent it (the student's input). */
  readonly input: string;
  readonly student_label: string;
  readonly student_confidence: number;
  readonly teacher_label: string;
  readonly teacher_rationale: string | null;
  /** Who answered the client. */
  readonly source: 'student' | 'teacher';
}

/**
 * Appends review records to a JSON Lines file, one `appendFileSync` per line so that lines of
 * concurrent requests never interleave and a crash loses at most the line being written.
 */
export class ReviewQueue {
  private ready = false;

  constructor(readonly file: string) {}

  /** Appends one record. */
  append(record: ReviewRecord): void {
    if (!this.ready) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      this.ready = true;
    }
    appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}
