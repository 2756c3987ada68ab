import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { calibrateSources } from '../../../core/calibration/calibrate-model.js';
import { calibrationProblem, readCalibrationFile } from '../../../core/calibration/calibration-file.js';
import { readRunStageFiles } from '../../../core/calibration/run-folder-sources.js';
import { calibrateThresholds } from '../../../core/calibration/thresholds.js';
import { loadStudent } from '../../../core/inference/load-student.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { tinyStudent, tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** Writes JSON lines. */
function writeLines(file: string, values: readonly unknown[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, values.map((value) => JSON.stringify(value) + '\n').join(''));
}

test(
  'open answers: without a label set the threshold is on the mean token log-probability, chosen as the maths says',
  { skip: tinyStudentMissing() },
  async (context) => {
    const fixture = await tinyStudent('trained');
    const scratch = temporaryDirectory(context);
    // A copy: calibration writes into the model folder, and the fixture is shared.
    const model = path.join(scratch, 'model');
    cpSync(fixture.exported, model, { recursive: true });
    const examples = fixture.test.map((example, index) => ({ id: `e${index}`, input: example.input, label: example.label }));
    const [validation, testSplit] = [examples.slice(0, 16), examples.slice(16)];
    // The teacher agrees with the student's free answer on every other example, and says something else on the rest.
    const student = await loadStudent(model);
    const answers = await student.predict(
      examples.map((example) => example.input),
      { answerLogProbability: true },
    );
    await student.close();
    const teacherLabel = (index: number) => (index % 2 === 0 ? answers[index]!.label : `not ${answers[index]!.label}`);
    const validationFile = path.join(scratch, 'trainer', 'data', 'validation.jsonl');
    const testFile = path.join(scratch, 'dataset', 'test.jsonl');
    const recordsFile = path.join(scratch, 'teacher', 'teacher-records.jsonl');
    writeLines(validationFile, validation);
    writeLines(testFile, testSplit);
    writeLines(
      recordsFile,
      examples.map((example, index) => ({ id: example.id, student_input: example.input, teacher_label: teacherLabel(index) })),
    );
    const sources = await readRunStageFiles({
      runDirectory: scratch,
      modelDirectory: model,
      exportedDirectory: model,
      validationFile,
      testFile,
      metric: 'exact-match',
      teacherRecordFiles: [recordsFile],
      labels: null,
    });
    const targets = [0.3, 0.5, 0.99];
    const result = await calibrateSources(sources, { registry: builtinRegistry(), targets });
    const stored = readCalibrationFile(model)!;
    assert.deepEqual(stored, result.calibration);
    assert.equal(calibrationProblem(stored), null);
    assert.equal(stored.confidence, 'mean-token-log-probability');
    assert.equal(stored.examples, 16);
    // The same thresholds from the confidences and agreements computed here.
    const expected = calibrateThresholds(
      validation.map((_, index) => ({
        confidence: answers[index]!.meanLogProbability!,
        studentAgrees: index % 2 === 0,
        teacherAgrees: true,
      })),
      targets,
    );
    assert.deepEqual(
      stored.thresholds.map((entry) => [entry.target, entry.threshold, entry.expected_coverage]),
      expected.map((entry) => [entry.target, entry.threshold, entry.expectedCoverage]),
    );
    for (const entry of stored.thresholds) if (entry.threshold !== null) assert.ok(entry.threshold <= 0, 'a log-probability');
    assert.ok(stored.thresholds[0]!.threshold !== null && stored.thresholds[0]!.expected_coverage > 0, 'the low target is reached');
    assert.equal(stored.thresholds[2]!.threshold, null);
    assert.deepEqual(
      stored.test!.map((entry) => entry.examples),
      [8, 8, 8],
    );
  },
);
