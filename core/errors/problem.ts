/**
 * One thing wrong with what the user gave us, located as precisely as we can: the file and position,
 * the JSON pointer into the merged pipeline, the plugin whose options are at fault, and a fix.
 */
export interface Problem {
  /** What is wrong, in one sentence. */
  readonly message: string;
  /** File the problem is in (the `extends` file when the value came from there). */
  readonly file?: string;
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column. */
  readonly column?: number;
  /** JSON pointer into the pipeline document, e.g. `/teacher/options/max_tokens`. */
  readonly pointer?: string;
  /** `kind/id` of the plugin whose options schema rejected the value. */
  readonly plugin?: string;
  /** How to fix it: expected keys, allowed values, a did-you-mean, a command to run. */
  readonly fix?: string;
}
