import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clopperPearsonLowerBound } from '../../../core/calibration/clopper-pearson.js';
import {
  achievedAt,
  calibrateThresholds,
  operatingPoints,
  parseTargets,
  type CalibrationExample,
} from '../../../core/calibration/thresholds.js';

/** A deterministic uniform stream (mulberry32), so the synthetic sets are the same on every run. */
function uniforms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A calibrated student: confidence c, agreeing with probability c; the teacher is the reference. */
function calibratedSet(size: number, seed: number): CalibrationExample[] {
  const next = uniforms(seed);
  return Array.from({ length: size }, () => {
    const confidence = 0.34 + 0.66 * next();
    return { confidence, studentAgrees: next() < confidence, teacherAgrees: true };
  });
}

test('against the teacher: the threshold lets in exactly as many disagreements as the bound allows', () => {
  // 100 examples at confidences 0.01 … 1.00; the student agrees at 0.50 and above, disagrees below.
  const examples = Array.from({ length: 100 }, (_, index) => {
    const confidence = (index + 1) / 100;
    return { confidence, studentAgrees: confidence >= 0.5, teacherAgrees: true };
  });
  for (const target of [0.9, 0.95]) {
    // The most disagreements d with bound((100 - d) / 100) ≥ target: the student then takes 0.50 and the d below it.
    let allowed = 0;
    while (clopperPearsonLowerBound(100 - (allowed + 1), 100, 0.95) >= target) allowed++;
    const [result] = calibrateThresholds(examples, [target]);
    const expectedThreshold = (50 - allowed) / 100;
    assert.ok(Math.abs(result!.threshold! - expectedThreshold) < 1e-12, `target ${target}: ${result!.threshold} vs ${expectedThreshold}`);
    assert.ok(Math.abs(result!.expectedCoverage - (51 + allowed) / 100) < 1e-12);
    assert.equal(result!.validationAgreement, (100 - allowed) / 100);
    assert.ok(result!.agreementLowerBound! >= target);
  }
  // 0.98 and 0.99 need a bound no 100 examples can give even with no disagreement (0.05^(1/100) = 0.9705).
  assert.deepEqual(calibrateThresholds(examples, [0.98, 0.99]), [
    { target: 0.98, threshold: null, expectedCoverage: 0, validationAgreement: null, agreementLowerBound: null },
    { target: 0.99, threshold: null, expectedCoverage: 0, validationAgreement: null, agreementLowerBound: null },
  ]);
});

test('a small set never promises more than its bound allows: 20 perfect answers do not reach 90%', () => {
  const perfect = (size: number) =>
    Array.from({ length: size }, (_, index) => ({ confidence: index / size, studentAgrees: true, teacherAgrees: true }));
  // 0.05^(1/20) = 0.861: even a student right on all 20 may not take traffic at a 90% promise.
  assert.equal(calibrateThresholds(perfect(20), [0.9])[0]!.threshold, null);
  // 60 of 60 bound at 0.9513: 95% is promised (with every example to the student), 98% is not.
  const [ninetyFive, ninetyEight] = calibrateThresholds(perfect(60), [0.95, 0.98]);
  assert.equal(ninetyFive!.threshold, 0);
  assert.equal(ninetyFive!.expectedCoverage, 1);
  assert.equal(ninetyEight!.threshold, null);
  assert.equal(ninetyEight!.expectedCoverage, 0);
});

test('over many synthetic validation sets, the promise holds on fresh data at least as often as the level says', () => {
  // A calibrated student's true combined agreement at a threshold t is known in closed form; the
  // chosen threshold's true agreement must be below the target in at most ~5% of the sets (plus the
  // search's own slack, hence the margin).
  const trueAgreement = (threshold: number) => {
    // Confidence uniform on [0.34, 1]; agreeing with probability c above t, the teacher (always right) below.
    const above = (1 - threshold) / 0.66;
    const meanAbove = (1 + threshold) / 2;
    return 1 - above * (1 - meanAbove);
  };
  let broken = 0;
  const sets = 200;
  for (let seed = 1; seed <= sets; seed++) {
    const [result] = calibrateThresholds(calibratedSet(300, seed), [0.95]);
    if (result!.threshold !== null && trueAgreement(result!.threshold) < 0.95) broken++;
  }
  assert.ok(broken / sets <= 0.1, `the promise broke in ${broken} of ${sets} sets`);
});

test('monotone: a higher target never gets a lower threshold or more coverage, and each threshold is the smallest that meets it', () => {
  const examples = calibratedSet(2000, 7);
  const targets = [0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99];
  const results = calibrateThresholds(examples, targets);
  const points = operatingPoints(examples);
  for (let index = 1; index < results.length; index++) {
    const [lower, higher] = [results[index - 1]!, results[index]!];
    if (higher.threshold === null) continue;
    assert.ok(lower.threshold !== null && higher.threshold >= lower.threshold, `${lower.target} → ${higher.target}`);
    assert.ok(higher.expectedCoverage <= lower.expectedCoverage);
  }
  for (const result of results) {
    if (result.threshold === null) {
      assert.ok(
        points.every((point) => point.agreementLowerBound < result.target),
        `no point meets ${result.target}`,
      );
      continue;
    }
    assert.ok(result.agreementLowerBound! >= result.target);
    assert.ok(
      points.filter((point) => point.threshold < result.threshold!).every((point) => point.agreementLowerBound < result.target),
      `no lower threshold meets ${result.target}`,
    );
  }
  // Coverage rises as the threshold falls.
  for (let index = 1; index < points.length; index++) assert.ok(points[index]!.coverage > points[index - 1]!.coverage);
});

test('against gold: the teacher errs too, so a middle threshold can beat both ends, and an unreachable target is null', () => {
  // 200 examples: the teacher right on 170 (85%); the student right on every example above 0.6, wrong below.
  const examples = Array.from({ length: 200 }, (_, index) => ({
    confidence: index / 200,
    studentAgrees: index / 200 >= 0.6,
    teacherAgrees: index % 20 >= 3,
  }));
  // At 0.6 the student answers 80 right, the teacher 120 of which 102 right: 182 of 200, the most any
  // threshold gives (the teacher alone: 170; each step down from 0.6 adds a wrong answer, each step up
  // hands a right one to the teacher). A target between the bounds of 181 and 182 of 200 needs it.
  const target = (clopperPearsonLowerBound(181, 200, 0.95) + clopperPearsonLowerBound(182, 200, 0.95)) / 2;
  const [reachable, unreachable] = calibrateThresholds(examples, [target, 0.99]);
  assert.equal(reachable!.threshold, 0.6);
  assert.equal(reachable!.validationAgreement, 182 / 200);
  assert.equal(reachable!.expectedCoverage, 0.4);
  assert.equal(unreachable!.threshold, null);
});

test('equal confidences are one threshold: a tie is never split', () => {
  const examples = [
    { confidence: 0.9, studentAgrees: true, teacherAgrees: true },
    { confidence: 0.9, studentAgrees: false, teacherAgrees: true },
    { confidence: 0.5, studentAgrees: true, teacherAgrees: true },
  ];
  assert.deepEqual(
    operatingPoints(examples).map((point) => [point.threshold, point.coverage, point.agreement]),
    [
      [0.9, 2 / 3, 2 / 3],
      [0.5, 1, 2 / 3],
    ],
  );
});

test('achieved on other examples: the student answers at or above the threshold, the teacher the rest', () => {
  const examples = [
    { confidence: 0.9, studentAgrees: true, teacherAgrees: true },
    { confidence: 0.8, studentAgrees: false, teacherAgrees: true },
    { confidence: 0.3, studentAgrees: false, teacherAgrees: false },
  ];
  assert.deepEqual(achievedAt(examples, 0.8), { coverage: 2 / 3, agreement: 1 / 3, examples: 3 });
  assert.deepEqual(achievedAt(examples, null), { coverage: 0, agreement: 2 / 3, examples: 3 });
  assert.deepEqual(achievedAt([], 0.5), { coverage: 0, agreement: 0, examples: 0 });
});

test('targets are parsed, sorted and checked', () => {
  assert.deepEqual(parseTargets('0.99, 0.9,0.95,0.9'), [0.9, 0.95, 0.99]);
  assert.match(parseTargets('0.9,1') as string, /"1" is not an agreement strictly between 0 and 1/);
  assert.match(parseTargets('0.9,,0.95') as string, /"" is not an agreement/);
  assert.match(parseTargets('ninety') as string, /"ninety"/);
  assert.throws(() => operatingPoints([{ confidence: Number.NaN, studentAgrees: true, teacherAgrees: true }]), RangeError);
});
