import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readCalibrationFile, writeCalibrationFile } from '../../../core/calibration/calibration-file.js';
import { isUserError } from '../../../core/errors/user-error.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { exampleCalibration } from './calibration-fixture.js';

const calibration = exampleCalibration;

/** The user error a read throws, as its one problem. */
function problemOf(directory: string) {
  try {
    readCalibrationFile(directory);
  } catch (error) {
    assert.ok(isUserError(error), String(error));
    return error.problems[0]!;
  }
  assert.fail('the read was expected to fail');
}

test('written and read back as it was; a folder without one reads as null', (context) => {
  const directory = temporaryDirectory(context);
  assert.equal(readCalibrationFile(directory), null);
  writeCalibrationFile(directory, calibration);
  assert.deepEqual(readCalibrationFile(directory), calibration);
});

test('a bad file is a user error naming the file, the JSON pointer and the fix', (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'calibration.json');
  const cases: [unknown, string, RegExp][] = [
    [{ ...calibration, format: 2 }, '/format', /is 2, not 1/],
    [{ ...calibration, against: 'people' }, '/against', /"teacher" or "gold"/],
    [{ ...calibration, thresholds: [] }, '/thresholds', /non-empty array/],
    [
      { ...calibration, thresholds: [{ ...calibration.thresholds[0], expected_coverage: 1.5 }] },
      '/thresholds/0/expected_coverage',
      /share/,
    ],
    [{ ...calibration, thresholds: [{ ...calibration.thresholds[0], threshold: 'high' }] }, '/thresholds/0/threshold', /number or null/],
    [{ ...calibration, test: [{ ...calibration.test![0], examples: -1 }] }, '/test/0/examples', /whole number/],
    [[1, 2], '/', /not a JSON object/],
  ];
  for (const [value, pointer, message] of cases) {
    writeFileSync(file, JSON.stringify(value));
    const problem = problemOf(directory);
    assert.equal(problem.file, file);
    assert.equal(problem.pointer, pointer, JSON.stringify(value).slice(0, 80));
    assert.match(problem.message, message);
    assert.match(problem.fix!, /distill calibrate/);
  }
  writeFileSync(file, '{"format": 1,');
  assert.match(problemOf(directory).message, /calibration\.json is not JSON/);
  writeFileSync(file, ' '.repeat(1024 * 1024 + 1));
  assert.match(problemOf(directory).message, /more than a calibration file's limit/);
});

test('a link in place of the file is refused, never followed', (context) => {
  const directory = temporaryDirectory(context);
  const elsewhere = path.join(temporaryDirectory(context), 'calibration.json');
  writeFileSync(elsewhere, JSON.stringify(calibration));
  symlinkSync(elsewhere, path.join(directory, 'calibration.json'));
  assert.throws(
    () => readCalibrationFile(directory),
    (error: unknown) => isUserError(error),
  );
});
