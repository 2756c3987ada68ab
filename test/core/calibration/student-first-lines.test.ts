import assert from 'node:assert/strict';
import { test } from 'node:test';
import { studentFirstLines } from '../../../core/calibration/student-first-lines.js';
import { exampleCalibration } from './calibration-fixture.js';

test('one line per reachable target, with what test achieved; the unreachable ones on a line of their own', () => {
  assert.deepEqual(studentFirstLines(exampleCalibration), [
    'student first at 95.0% agreement with the teacher: the student answers 62.0% on validation, 60.0% on test (achieved 96.0%)',
    'student first: no confidence threshold reaches 99.0% agreement with the teacher on validation',
  ]);
});

test('against gold, before test was scored, every target reachable: validation only, no line about unreachable targets', () => {
  const calibration = {
    ...exampleCalibration,
    against: 'gold' as const,
    thresholds: exampleCalibration.thresholds.slice(0, 1),
    test: undefined,
  };
  assert.deepEqual(studentFirstLines(calibration), [
    'student first at 95.0% agreement with gold labels: the student answers 62.0% on validation',
  ]);
});
