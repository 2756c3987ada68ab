import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CalibrationFile } from '../../../core/calibration/calibration-file.js';
import { studentFirstLines } from '../../../core/calibration/student-first-lines.js';

const calibration: CalibrationFile = {
  format: 1,
  against: 'teacher',
  split: 'valid',
  examples: 402,
  confidence: 'label-probability',
  bound: { method: 'clopper-pearson', level: 0.95 },
  thresholds: [
    { target: 0.9, threshold: 0.889, expected_coverage: 0.356, validation_agreement: 0.925, agreement_lower_bound: 0.9 },
    { target: 0.95, threshold: 0.955, expected_coverage: 0.184, validation_agreement: 0.97, agreement_lower_bound: 0.952 },
    { target: 0.99, threshold: null, expected_coverage: 0, validation_agreement: 0, agreement_lower_bound: 0 },
    { target: 0.995, threshold: null, expected_coverage: 0, validation_agreement: 0, agreement_lower_bound: 0 },
  ],
  test: [{ target: 0.9, threshold: 0.889, coverage: 0.333, agreement: 0.928, examples: 2000 }],
};

test('one line per reachable target, with test where it was scored; the unreachable ones together', () => {
  assert.deepEqual(studentFirstLines(calibration), [
    'student first at 90.0% agreement with the teacher: the student answers 35.6% on validation, 33.3% on test (achieved 92.8%)',
    'student first at 95.0% agreement with the teacher: the student answers 18.4% on validation',
    'student first: no confidence threshold reaches 99.0%, 99.5% agreement with the teacher on validation',
  ]);
});

test('against gold, with every target reachable: no line about unreachable targets', () => {
  const lines = studentFirstLines({ ...calibration, against: 'gold', thresholds: calibration.thresholds.slice(0, 1), test: undefined });
  assert.deepEqual(lines, ['student first at 90.0% agreement with gold labels: the student answers 35.6% on validation']);
});
