import type { Problem } from './problem.js';

/**
 * Problems in reading order: those without a file first, then by file, line and column, so that
 * output is stable whatever order the checks ran in.
 */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (left, right) =>
      (left.file ?? '').localeCompare(right.file ?? '') ||
      (left.line ?? 0) - (right.line ?? 0) ||
      (left.column ?? 0) - (right.column ?? 0) ||
      (left.pointer ?? '').localeCompare(right.pointer ?? ''),
  );
}
