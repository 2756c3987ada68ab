import type { Problem } from './problem.js';

/**
 * The one error type for user mistakes (bad YAML, unknown plugin, missing API key, missing file).
 * Commands print it with {@link formatUserError} and no stack trace; anything else that is thrown
 * is a bug and shows its stack.
 */
export class UserError extends Error {
  /** Every problem found; validation reports all of them in one pass. */
  readonly problems: readonly Problem[];

  constructor(problems: Problem | readonly Problem[]) {
    const list = Array.isArray(problems) ? (problems as readonly Problem[]) : [problems as Problem];
    super(list.map((problem) => problem.message).join('; '));
    this.name = 'UserError';
    this.problems = list;
  }
}

/** Whether a thrown value is a {@link UserError}. */
export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
