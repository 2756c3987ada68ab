import path from 'node:path';
import { calibrationFileName, readCalibrationFile, type ConfidenceKind } from '../../calibration/calibration-file.js';
import { UserError } from '../../errors/user-error.js';

/** One target agreement of a calibration, with the smallest confidence that meets it (null: none does). */
export interface CalibrationThreshold {
  readonly target: number;
  readonly threshold: number | null;
  readonly expectedCoverage: number;
}

/** What fallback serving needs of `calibration.json` (read and checked by `readCalibrationFile`). */
export interface Calibration {
  readonly file: string;
  /** `teacher` or `gold`: what agreement was measured against. */
  readonly against: string;
  readonly confidence: ConfidenceKind;
  readonly thresholds: readonly CalibrationThreshold[];
}

/**
 * The calibration of an exported model folder, for `--fallback`. A folder without `calibration.json`
 * is a {@link UserError} naming `distill calibrate`; a file too large, not JSON, a link or not format 1
 * is one naming the JSON pointer (see `readCalibrationFile`).
 */
export function readCalibration(modelDirectory: string): Calibration {
  const file = path.join(modelDirectory, calibrationFileName);
  const stored = readCalibrationFile(modelDirectory);
  if (!stored) {
    throw new UserError({
      message: `--fallback needs ${file}, and the model folder has no ${calibrationFileName}: without calibrated thresholds there is no telling when the student is sure enough`,
      fix: `run \`distill calibrate ${modelDirectory}\` (or the run folder) to write it`,
    });
  }
  return {
    file,
    against: stored.against,
    confidence: stored.confidence,
    thresholds: stored.thresholds.map((row) => ({ target: row.target, threshold: row.threshold, expectedCoverage: row.expected_coverage })),
  };
}

/**
 * The threshold calibrated for a target agreement. A target the file has no row for, or one whose
 * threshold is null (no confidence reaches it on validation), is a {@link UserError} listing the
 * targets that are reachable.
 */
export function thresholdFor(calibration: Calibration, target: number): CalibrationThreshold & { readonly threshold: number } {
  const reachable = calibration.thresholds.filter((row) => row.threshold !== null);
  const listed =
    reachable.length > 0
      ? `reachable targets: ${reachable.map((row) => `${row.target} (threshold ${row.threshold}, expected coverage ${row.expectedCoverage})`).join(', ')}`
      : 'no target is reachable with this student';
  const row = calibration.thresholds.find((each) => Math.abs(each.target - target) < 1e-9);
  if (!row) {
    throw new UserError({
      message: `${calibration.file} has no threshold for the target ${target}`,
      fix: `pass --target with one of the ${listed}, or run \`distill calibrate\` with that target`,
    });
  }
  if (row.threshold === null) {
    throw new UserError({
      message: `no confidence threshold of the student reaches the target agreement ${target} on validation (${calibration.file}: threshold null)`,
      fix: `pass --target with one of the ${listed}`,
    });
  }
  return { ...row, threshold: row.threshold };
}
