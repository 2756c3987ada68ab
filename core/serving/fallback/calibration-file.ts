import { lstatSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors/user-error.js';
import { readTextFileNoFollow } from '../../files/no-follow-files.js';

/** Name of the calibration file `distill calibrate` writes into an exported model folder. */
export const calibrationFileName = 'calibration.json';

/** A calibration file is a few kilobytes; anything far larger is not one. */
const maxCalibrationBytes = 1024 * 1024;

/** One target agreement of a calibration, with the smallest confidence that meets it (null: none does). */
export interface CalibrationThreshold {
  readonly target: number;
  readonly threshold: number | null;
  readonly expectedCoverage: number;
}

/** What fallback serving reads of `calibration.json` (format 1). */
export interface Calibration {
  readonly file: string;
  /** `teacher` or `gold`: what agreement was measured against. */
  readonly against: string;
  /** `label-probability` (closed label sets) or `mean-token-log-probability` (open answers). */
  readonly confidence: 'label-probability' | 'mean-token-log-probability';
  readonly thresholds: readonly CalibrationThreshold[];
}

function isNumberIn(value: unknown, low: number, high: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= low && value <= high;
}

/**
 * Reads and checks the calibration file of an exported model folder. A folder without one, a file
 * over 1 MiB, bad JSON, another format or a malformed threshold row is a {@link UserError} naming the
 * file, the JSON pointer and the fix (`distill calibrate`).
 */
export function readCalibration(modelDirectory: string): Calibration {
  const file = path.join(modelDirectory, calibrationFileName);
  const recalibrate = `run \`distill calibrate ${modelDirectory}\` to write it`;
  let size: number;
  try {
    size = lstatSync(file).size;
  } catch {
    throw new UserError({
      message: `--fallback needs ${file}, and the model folder has no ${calibrationFileName}: without calibrated thresholds there is no telling when the student is sure enough`,
      fix: recalibrate,
    });
  }
  if (size > maxCalibrationBytes) {
    throw new UserError({ message: `${file} is ${size} bytes; a calibration file is at most ${maxCalibrationBytes}`, fix: recalibrate });
  }
  // A link is refused (with its own message), as every file the project reads from a run folder.
  const text = readTextFileNoFollow(file);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UserError({ message: `${file} is not valid JSON: ${(error as Error).message}`, fix: recalibrate });
  }
  const problem = (pointer: string, expected: string) =>
    new UserError({ message: `${file}: ${pointer === '' ? 'the document' : pointer} must be ${expected}`, pointer, fix: recalibrate });
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw problem('', 'a JSON object');
  const record = document as Record<string, unknown>;
  if (record.format !== 1) throw problem('/format', '1 (this distill reads calibration format 1)');
  if (record.against !== 'teacher' && record.against !== 'gold') throw problem('/against', '"teacher" or "gold"');
  if (record.confidence !== 'label-probability' && record.confidence !== 'mean-token-log-probability') {
    throw problem('/confidence', '"label-probability" or "mean-token-log-probability"');
  }
  if (!Array.isArray(record.thresholds) || record.thresholds.length > 1000) throw problem('/thresholds', 'an array of at most 1000 rows');
  const thresholds = (record.thresholds as unknown[]).map((row, index): CalibrationThreshold => {
    const pointer = `/thresholds/${index}`;
    if (typeof row !== 'object' || row === null) throw problem(pointer, 'an object');
    const { target, threshold, expected_coverage: expectedCoverage } = row as Record<string, unknown>;
    if (!isNumberIn(target, 0, 1)) throw problem(`${pointer}/target`, 'a number from 0 to 1');
    if (threshold !== null && !(typeof threshold === 'number' && Number.isFinite(threshold))) {
      throw problem(`${pointer}/threshold`, 'a number or null');
    }
    if (!isNumberIn(expectedCoverage, 0, 1)) throw problem(`${pointer}/expected_coverage`, 'a number from 0 to 1');
    return { target, threshold, expectedCoverage };
  });
  return { file, against: record.against, confidence: record.confidence, thresholds };
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
