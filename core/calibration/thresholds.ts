import { clopperPearsonLowerBound } from './clopper-pearson.js';

/** The agreement levels calibrated when none are asked for. */
export const defaultTargets: readonly number[] = [0.9, 0.95, 0.98, 0.99];

/** The bound's confidence level: a promise that holds for 19 validation sets in 20. */
export const defaultBoundLevel = 0.95;

/**
 * One validation (or test) example as calibration sees it: the student's confidence and whether each
 * side's answer agrees with the reference. Against the teacher, `teacherAgrees` is true by definition;
 * against gold it is whether the teacher's own answer was right.
 */
export interface CalibrationExample {
  /** The student's confidence: a label probability, or a mean token log-probability (any real, higher is surer). */
  readonly confidence: number;
  readonly studentAgrees: boolean;
  readonly teacherAgrees: boolean;
}

/** The combined system at one threshold: the student answers at or above it, the teacher below. */
export interface OperatingPoint {
  readonly threshold: number;
  /** Share of the examples the student answers. */
  readonly coverage: number;
  /** Share of the examples the combined system answers as the reference does. */
  readonly agreement: number;
  /** The one-sided lower confidence bound on `agreement`. */
  readonly agreementLowerBound: number;
}

/** The calibration of one target agreement. */
export interface TargetThreshold {
  readonly target: number;
  /** The smallest threshold whose agreement bound reaches the target; null when none does. */
  readonly threshold: number | null;
  /** Share of the validation examples the student answers at that threshold (0 with no threshold). */
  readonly expectedCoverage: number;
  /** The combined system's agreement on validation at that threshold; null with no threshold. */
  readonly validationAgreement: number | null;
  /** Its lower confidence bound; null with no threshold. */
  readonly agreementLowerBound: number | null;
}

/**
 * Every threshold worth trying, highest first: each distinct confidence, with the combined system's
 * coverage, agreement and agreement bound when the student answers the examples at or above it. A
 * threshold above every confidence (the teacher answers all) is left out: it serves nothing.
 */
export function operatingPoints(examples: readonly CalibrationExample[], level = defaultBoundLevel): OperatingPoint[] {
  const total = examples.length;
  if (total === 0) return [];
  for (const example of examples) {
    if (!Number.isFinite(example.confidence)) throw new RangeError(`a confidence must be a finite number (got ${example.confidence})`);
  }
  const sorted = [...examples].sort((left, right) => right.confidence - left.confidence);
  // Start with the teacher answering everything, then hand the examples to the student surest first.
  let agreeing = sorted.filter((example) => example.teacherAgrees).length;
  const points: OperatingPoint[] = [];
  for (let index = 0; index < total;) {
    const threshold = sorted[index]!.confidence;
    // Examples of equal confidence move together: a threshold cannot split them.
    while (index < total && sorted[index]!.confidence === threshold) {
      const example = sorted[index]!;
      agreeing += Number(example.studentAgrees) - Number(example.teacherAgrees);
      index++;
    }
    points.push({
      threshold,
      coverage: index / total,
      agreement: agreeing / total,
      agreementLowerBound: clopperPearsonLowerBound(agreeing, total, level),
    });
  }
  return points;
}

/**
 * For each target, the smallest threshold whose combined agreement has a lower confidence bound at
 * or above the target: the most traffic the student may take while the promise holds. The points are
 * all tried, so a target met only at a middle threshold (against gold, where the teacher errs too) is
 * found; a higher target never gets a lower threshold, since the thresholds meeting it are a subset.
 * The bound holds for each threshold on its own; the search looks at many, so read the margin as
 * a guard against small sets rather than as a simultaneous guarantee (docs/calibration.md).
 */
export function calibrateThresholds(
  examples: readonly CalibrationExample[],
  targets: readonly number[] = defaultTargets,
  level = defaultBoundLevel,
): TargetThreshold[] {
  const points = operatingPoints(examples, level);
  return targets.map((target) => {
    let chosen: OperatingPoint | null = null;
    for (const point of points) if (point.agreementLowerBound >= target) chosen = point;
    if (chosen === null) return { target, threshold: null, expectedCoverage: 0, validationAgreement: null, agreementLowerBound: null };
    return {
      target,
      threshold: chosen.threshold,
      expectedCoverage: chosen.coverage,
      validationAgreement: chosen.agreement,
      agreementLowerBound: chosen.agreementLowerBound,
    };
  });
}

/** What a threshold achieved on other examples (the test split). */
export interface AchievedPoint {
  readonly coverage: number;
  readonly agreement: number;
  readonly examples: number;
}

/** The combined system's coverage and agreement on `examples` at `threshold` (null: the teacher answers all). */
export function achievedAt(examples: readonly CalibrationExample[], threshold: number | null): AchievedPoint {
  let covered = 0;
  let agreeing = 0;
  for (const example of examples) {
    const student = threshold !== null && example.confidence >= threshold;
    if (student) covered++;
    if (student ? example.studentAgrees : example.teacherAgrees) agreeing++;
  }
  const total = examples.length;
  return { coverage: total === 0 ? 0 : covered / total, agreement: total === 0 ? 0 : agreeing / total, examples: total };
}

/**
 * Parses a comma-separated list of target agreements (`0.9,0.95`): each a number strictly between 0
 * and 1, returned sorted without repeats. Returns the reason as a string for a bad list, so that the
 * command can name the flag.
 */
export function parseTargets(text: string): number[] | string {
  const parts = text.split(',').map((part) => part.trim());
  const targets: number[] = [];
  for (const part of parts) {
    const value = part === '' ? Number.NaN : Number(part);
    if (!(value > 0 && value < 1)) return `"${part}" is not an agreement strictly between 0 and 1`;
    targets.push(value);
  }
  return [...new Set(targets)].sort((left, right) => left - right);
}
