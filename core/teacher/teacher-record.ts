/**
 * One line of a run's `teacher-records.jsonl`: everything known about one example after the teacher
 * stage. Written as it goes, read by the sampler and trainer stages and by the report. Keys are
 * snake_case because the file is read by people and by the Python worker.
 */
export interface TeacherRecord {
  readonly id: string;
  readonly split: string;
  /** The dataset fields the prompt was rendered from. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Student input without task prefix (`Dataset.studentInput`). */
  readonly student_input: string;
  readonly gold_label: string | null;
  /** Normalised teacher label, or null when unparsed or failed. */
  readonly teacher_label: string | null;
  /** Cleaned rationale, or null when missing or too short. */
  readonly rationale: string | null;
  /** `parsed`; `unparsed` (answer kept, reason given); `failed` (no answer: request error after retries). */
  readonly parse_status: 'parsed' | 'unparsed' | 'failed';
  /** Why parsing or the request failed. */
  readonly reason: string | null;
  /** The completion as the teacher sent it. */
  readonly raw_text: string | null;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cost_usd: number;
  /** Answered from the cache (or from recordings), at no new cost. */
  readonly cached: boolean;
  /**
   * How sure the teacher is of `teacher_label`, from 0 to 1: the majority's share of the votes when
   * several answers were asked (`teacher.samples`), else the label's probability from the answer's
   * token log-probabilities where the provider returns them. Absent when neither is known.
   */
  readonly confidence?: number | null;
  /** Where `confidence` comes from. */
  readonly confidence_source?: 'votes' | 'logprobs';
  /**
   * Self-consistency (`teacher.samples` above 1): every answer asked for this example, in sample
   * order, each parsed on its own. `teacher_label` is then the majority label (ties: the label of the
   * earliest answer among the tied), and `rationale` the longest rationale of an answer that agrees with it.
   */
  readonly samples?: readonly TeacherSample[];
  /** Self-consistency: parsed answers per label (unparsed answers are not votes). */
  readonly votes?: Readonly<Record<string, number>>;
}

/** One of several answers asked for an example (`teacher.samples`). */
export interface TeacherSample {
  readonly label: string | null;
  readonly rationale: string | null;
  readonly parse_status: 'parsed' | 'unparsed' | 'failed';
  /** Answered from the cache, at no new cost. */
  readonly cached: boolean;
}
