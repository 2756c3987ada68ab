import type { CalibrationFile } from './calibration-file.js';

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/**
 * What a finished run says of its calibration, one line per target: the share of validation the
 * student answers at the target's threshold and, where test was scored, the share it answered there
 * and the agreement achieved. Targets no threshold reaches are named together on one line.
 */
export function studentFirstLines(calibration: CalibrationFile): string[] {
  const reference = calibration.against === 'teacher' ? 'the teacher' : 'gold labels';
  const lines: string[] = [];
  const unreachable: number[] = [];
  for (const row of calibration.thresholds) {
    if (row.threshold === null) {
      unreachable.push(row.target);
      continue;
    }
    const test = calibration.test?.find((point) => point.target === row.target);
    const achieved = test ? `, ${percent(test.coverage)} on test (achieved ${percent(test.agreement)})` : '';
    lines.push(
      `student first at ${percent(row.target)} agreement with ${reference}: the student answers ${percent(row.expected_coverage)} on validation${achieved}`,
    );
  }
  if (unreachable.length > 0) {
    lines.push(
      `student first: no confidence threshold reaches ${unreachable.map(percent).join(', ')} agreement with ${reference} on validation`,
    );
  }
  return lines;
}
