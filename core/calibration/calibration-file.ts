import path from 'node:path';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import { readCheckedJsonFile, type JsonFileProblem } from '../files/read-checked-json-file.js';

/** The file's name in an exported model folder. */
export const calibrationFileName = 'calibration.json';

/** The format this code writes and reads. */
export const calibrationFormat = 1;

/** A calibration file is a few hundred bytes a target; anything near this is not one. */
const maximumBytes = 1024 * 1024;

/** What the confidence thresholded is: a label's probability among the labels, or an open answer's mean token log-probability. */
export type ConfidenceKind = 'label-probability' | 'mean-token-log-probability';

/** What the combined system's agreement is measured against. */
export type CalibrationReference = 'teacher' | 'gold';

/** One target's threshold, as stored (`calibration.json`, snake_case). */
export interface StoredThreshold {
  readonly target: number;
  readonly threshold: number | null;
  readonly expected_coverage: number;
  readonly validation_agreement: number | null;
  readonly agreement_lower_bound: number | null;
}

/** What one target's threshold achieved on the test split. */
export interface StoredTestPoint {
  readonly target: number;
  readonly threshold: number | null;
  readonly coverage: number;
  readonly agreement: number;
  readonly examples: number;
}

/** `calibration.json`, format 1: what `distill calibrate` writes and `distill serve --fallback` reads. */
export interface CalibrationFile {
  readonly format: 1;
  readonly against: CalibrationReference;
  readonly split: 'valid';
  /** Validation examples the thresholds were chosen on. */
  readonly examples: number;
  readonly confidence: ConfidenceKind;
  readonly bound: { readonly method: 'clopper-pearson'; readonly level: number };
  readonly thresholds: readonly StoredThreshold[];
  /** Present once the test split was scored. */
  readonly test?: readonly StoredTestPoint[];
}

/** Writes `calibration.json` into a model folder (replacing one there, never through a link); returns its path. */
export function writeCalibrationFile(modelDirectory: string, calibration: CalibrationFile): string {
  const file = path.join(modelDirectory, calibrationFileName);
  writeFileNoFollow(file, JSON.stringify(calibration, null, 2) + '\n');
  return file;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isShare = (value: unknown): value is number => isNumber(value) && value >= 0 && value <= 1;
const isShareOrNull = (value: unknown) => value === null || isShare(value);
const isTarget = (value: unknown) => isNumber(value) && value > 0 && value < 1;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Where a parsed calibration file breaks format 1: a JSON pointer and what is wrong there; null when it is valid. */
export function calibrationProblem(value: unknown): JsonFileProblem | null {
  if (!isObject(value)) return { pointer: '', message: 'is not a JSON object' };
  if (value.format !== calibrationFormat)
    return { pointer: '/format', message: `is ${JSON.stringify(value.format)}, not ${calibrationFormat}` };
  if (value.against !== 'teacher' && value.against !== 'gold') return { pointer: '/against', message: 'must be "teacher" or "gold"' };
  if (value.split !== 'valid') return { pointer: '/split', message: 'must be "valid"' };
  if (!Number.isInteger(value.examples) || (value.examples as number) < 1)
    return { pointer: '/examples', message: 'must be a whole number ≥ 1' };
  if (value.confidence !== 'label-probability' && value.confidence !== 'mean-token-log-probability') {
    return { pointer: '/confidence', message: 'must be "label-probability" or "mean-token-log-probability"' };
  }
  const bound = value.bound;
  if (!isObject(bound) || bound.method !== 'clopper-pearson' || !isTarget(bound.level)) {
    return { pointer: '/bound', message: 'must be {"method": "clopper-pearson", "level": a number between 0 and 1}' };
  }
  if (!Array.isArray(value.thresholds) || value.thresholds.length === 0)
    return { pointer: '/thresholds', message: 'must be a non-empty array' };
  for (const [index, entry] of (value.thresholds as unknown[]).entries()) {
    const pointer = `/thresholds/${index}`;
    if (!isObject(entry) || !isTarget(entry.target)) return { pointer, message: 'needs a "target" between 0 and 1' };
    if (entry.threshold !== null && !isNumber(entry.threshold))
      return { pointer: `${pointer}/threshold`, message: 'must be a number or null' };
    if (!isShare(entry.expected_coverage)) return { pointer: `${pointer}/expected_coverage`, message: 'must be a share between 0 and 1' };
    if (!isShareOrNull(entry.validation_agreement) || !isShareOrNull(entry.agreement_lower_bound)) {
      return { pointer, message: '"validation_agreement" and "agreement_lower_bound" must be shares between 0 and 1, or null' };
    }
  }
  if (value.test !== undefined) {
    if (!Array.isArray(value.test)) return { pointer: '/test', message: 'must be an array' };
    for (const [index, entry] of (value.test as unknown[]).entries()) {
      const pointer = `/test/${index}`;
      if (!isObject(entry) || !isTarget(entry.target)) return { pointer, message: 'needs a "target" between 0 and 1' };
      if (entry.threshold !== null && !isNumber(entry.threshold))
        return { pointer: `${pointer}/threshold`, message: 'must be a number or null' };
      if (!isShare(entry.coverage) || !isShare(entry.agreement))
        return { pointer, message: '"coverage" and "agreement" must be shares between 0 and 1' };
      if (!Number.isInteger(entry.examples) || (entry.examples as number) < 0)
        return { pointer: `${pointer}/examples`, message: 'must be a whole number' };
    }
  }
  return null;
}

/**
 * Reads and checks a model folder's `calibration.json`: null when the folder has none; a
 * {@link UserError} naming the file, the JSON pointer and the fix for a file that is too large, not
 * JSON, a link, or not format 1.
 */
export function readCalibrationFile(modelDirectory: string): CalibrationFile | null {
  return readCheckedJsonFile({
    file: path.join(modelDirectory, calibrationFileName),
    what: 'a calibration file',
    maximumBytes,
    fix: 'run `distill calibrate` on the run or model folder again to rewrite it',
    problemOf: calibrationProblem,
  }) as CalibrationFile | null;
}
