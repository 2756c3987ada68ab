import { createHash } from 'node:crypto';
import { NoFollowAppender } from '../../files/no-follow-files.js';

/** Name of the review file when `--review-file` is not given: beside the calibration, in the model folder. */
export const defaultReviewFileName = 'review-queue.jsonl';

/** One line of the review file. */
export interface ReviewRecord {
  /**
   * The first 16 hex digits of the input's SHA-256: the same text has the same id in every line and
   * every server, so the `jsonl` dataset's `id_field: id` keys it stably (and a text asked twice is one example).
   */
  readonly id: string;
  /** `fallback`: the teacher answered because the student was unsure; `shadow-disagreement`: a shadowed student answer the teacher contradicted. */
  readonly kind: 'fallback' | 'shadow-disagreement';
  readonly time: string;
  /** The text as the client sent it (the student's input). */
  readonly input: string;
  readonly student_label: string;
  /** Of the calibration's kind (a label probability, or an open answer's mean token log-probability); null when none. */
  readonly student_confidence: number | null;
  readonly teacher_label: string;
  readonly teacher_rationale: string | null;
  /** Who answered the client. */
  readonly source: 'student' | 'teacher';
}

/** The review id of an input text (see {@link ReviewRecord.id}). */
export function reviewId(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex').slice(0, 16);
}

/**
 * Appends review records to a JSON Lines file, never through a link (the project's appender: one
 * `write` per line, so lines of concurrent requests never interleave and a crash loses at most the
 * line being written; registered secrets redacted). The file is opened on the first record.
 */
export class ReviewQueue {
  private readonly appender: NoFollowAppender;

  constructor(readonly file: string) {
    this.appender = new NoFollowAppender(file);
  }

  /** Appends one record (its id taken from its input). */
  append(entry: Omit<ReviewRecord, 'id'>): void {
    const record: ReviewRecord = { id: reviewId(entry.input), ...entry };
    this.appender.append(JSON.stringify(record) + '\n');
  }

  /** Closes the file. */
  close(): void {
    this.appender.close();
  }
}
