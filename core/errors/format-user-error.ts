import type { Problem } from './problem.js';
import type { UserError } from './user-error.js';

/** `file:line:col`, or as much of it as is known. */
export function formatLocation(problem: Problem): string | null {
  if (!problem.file) return null;
  if (problem.line === undefined) return problem.file;
  return `${problem.file}:${problem.line}:${problem.column ?? 1}`;
}

/**
 * Renders one problem as a compiler-style block:
 *
 * ```
 * pipelines/x.yaml:12:7 /teacher/options/max_tokns [teacher/openai]
 *   unknown key "max_tokns"
 *   fix: did you mean "max_tokens"?
 * ```
 */
export function formatProblem(problem: Problem): string {
  const head = [formatLocation(problem), problem.pointer, problem.plugin ? `[${problem.plugin}]` : null]
    .filter((part): part is string => Boolean(part))
    .join(' ');
  const lines = head ? [head, `  ${problem.message}`] : [problem.message];
  if (problem.fix) lines.push(`  fix: ${problem.fix}`);
  return lines.join('\n');
}

/** Renders every problem of a {@link UserError}, with a count when there is more than one. */
export function formatUserError(error: UserError): string {
  const blocks = error.problems.map(formatProblem);
  if (blocks.length > 1) blocks.push(`${blocks.length} problems`);
  return blocks.join('\n\n');
}

/** The JSON form of a user error, for `--json` output. */
export function userErrorToJson(error: UserError): { error: { problems: readonly Problem[] } } {
  return { error: { problems: error.problems } };
}
