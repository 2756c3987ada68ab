import path from 'node:path';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import { readCheckedJsonFile, type JsonFileProblem } from '../files/read-checked-json-file.js';
import type { StudentPrecision } from './student-folder.js';

/** The file in an exported student's folder that says which graphs load when no precision is asked for. */
export const precisionChoiceFileName = 'distill-precision.json';

/** The format this code writes and reads. */
export const precisionChoiceFormat = 1;

/** int8 becomes a folder's default only when it costs less than this share of accuracy (half a point)… */
export const int8AccuracyCostLimit = 0.005;

/**
 * …measured on at least this many examples: below it one example is more than half a point, and a
 * cost "under half a point" would only mean that the handful of examples happened to agree.
 */
export const int8MinimumExamples = 200;

/** Nothing this small is near a kilobyte; a bound, so that a planted file cannot make loading slow. */
const maximumBytes = 64 * 1024;

/**
 * The accuracies of both graphs of a folder on the same examples (what the choice is made from);
 * null where they were not scored, there being too few examples to decide on.
 */
export interface PrecisionMeasurement {
  readonly metric: string;
  readonly examples: number;
  readonly fullPrecisionAccuracy: number | null;
  readonly quantizedAccuracy: number | null;
}

/** `distill-precision.json`: the precision a folder loads by default, and the measurement that chose it. */
export interface PrecisionChoice extends PrecisionMeasurement {
  readonly format: 1;
  readonly default: StudentPrecision;
  /** Where the examples came from (`the validation split`, a file name): never the split a report scores. */
  readonly source: string;
  /** Why, in words: the rule and the numbers. */
  readonly reason: string;
}

const points = (share: number) => `${(share * 100).toFixed(2)} points`;

/**
 * int8 when it costs less than {@link int8AccuracyCostLimit} of accuracy (or gains) on at least
 * {@link int8MinimumExamples} examples, else fp32: the int8 graphs are about four times smaller and
 * faster on most CPUs, but a student whose answers they change loses what it was trained for.
 */
export function choosePrecision(measurement: PrecisionMeasurement, source: string): PrecisionChoice {
  const { fullPrecisionAccuracy: full, quantizedAccuracy: quantized } = measurement;
  // Named one by one: a richer measurement (the exporter's, with sizes and agreement) keeps its extras out of the file.
  const base = {
    format: precisionChoiceFormat,
    metric: measurement.metric,
    examples: measurement.examples,
    fullPrecisionAccuracy: full,
    quantizedAccuracy: quantized,
    source,
  } as const;
  if (measurement.examples < int8MinimumExamples || full === null || quantized === null) {
    return {
      ...base,
      default: 'fp32',
      reason: `fp32: ${measurement.examples} examples of ${source}, fewer than the ${int8MinimumExamples} needed to tell an int8 cost under half a point`,
    };
  }
  const cost = full - quantized;
  const measured = `${measurement.metric} ${quantized.toFixed(4)} in int8 against ${full.toFixed(4)} in fp32 on ${measurement.examples} examples of ${source}`;
  return cost < int8AccuracyCostLimit
    ? { ...base, default: 'int8', reason: `int8: ${measured}, a cost of ${points(Math.max(0, cost))}, under half a point` }
    : { ...base, default: 'fp32', reason: `fp32: ${measured}; int8 would cost ${points(cost)}, half a point or more` };
}

/** Writes the choice into a model folder (replacing one there, never through a link); returns its path. */
export function writePrecisionChoice(directory: string, choice: PrecisionChoice): string {
  const file = path.join(directory, precisionChoiceFileName);
  writeFileNoFollow(file, JSON.stringify(choice, null, 2) + '\n');
  return file;
}

const isShareOrNull = (value: unknown) =>
  value === null || (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1);

/** Where a parsed choice breaks format 1: a JSON pointer and what is wrong there; null when it is valid. */
function choiceProblem(value: unknown): JsonFileProblem | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { pointer: '', message: 'is not a JSON object' };
  const choice = value as Record<string, unknown>;
  if (choice.format !== precisionChoiceFormat)
    return { pointer: '/format', message: `is ${JSON.stringify(choice.format)}, not ${precisionChoiceFormat}` };
  if (choice.default !== 'fp32' && choice.default !== 'int8') return { pointer: '/default', message: 'must be "fp32" or "int8"' };
  if (!Number.isInteger(choice.examples) || (choice.examples as number) < 0)
    return { pointer: '/examples', message: 'must be a whole number' };
  for (const key of ['fullPrecisionAccuracy', 'quantizedAccuracy'])
    if (!isShareOrNull(choice[key])) return { pointer: `/${key}`, message: 'must be a share between 0 and 1, or null' };
  for (const key of ['metric', 'source', 'reason'])
    if (typeof choice[key] !== 'string') return { pointer: `/${key}`, message: 'must be a string' };
  return null;
}

/**
 * Reads and checks a folder's `distill-precision.json`: null when the folder has none (a folder
 * exported without int8 graphs, or before distill chose); a {@link UserError} with the file, the JSON
 * pointer and the fix for one too large, not JSON, a link, or not format 1.
 */
export function readPrecisionChoice(directory: string): PrecisionChoice | null {
  const file = path.join(path.resolve(directory), precisionChoiceFileName);
  return readCheckedJsonFile({
    file,
    what: 'a precision choice',
    maximumBytes,
    fix: `export the student again (\`distill export --quantize\`), or delete ${file} to load fp32 unless a precision is asked for`,
    problemOf: choiceProblem,
  }) as PrecisionChoice | null;
}

/** The precision a folder loads when none is asked for: its choice, else fp32. */
export function defaultPrecisionOf(directory: string): StudentPrecision {
  return readPrecisionChoice(directory)?.default ?? 'fp32';
}
