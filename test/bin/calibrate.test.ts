import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { calibrationProblem, readCalibrationFile, type CalibrationFile } from '../../core/calibration/calibration-file.js';
import { runDistill } from '../support/run-distill.js';
import { testPath } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const tinyPipeline = testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml');

/** A stage's folder in a run, as `stages.json` names it. */
function stageFolder(runDirectory: string, stage: string): string {
  const stages = JSON.parse(readFileSync(path.join(runDirectory, 'stages.json'), 'utf8')) as Record<string, { directory: string }>;
  return path.join(runDirectory, stages[stage]!.directory);
}

/** JSON lines of a file. */
function jsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

describe('distill calibrate on a tiny trained and exported student', { timeout: 600_000 }, () => {
  let runs = '';
  let runDirectory = '';

  before(async () => {
    runs = mkdtempSync(path.join(tmpdir(), 'distill-calibrate-'));
    // Label scoring gives label probabilities; the teacher on test gives the test split its reference.
    const pipeline = path.join(runs, 'calibrated.yaml');
    writeFileSync(pipeline, `extends: ${JSON.stringify(tinyPipeline)}\nevaluation:\n  score_labels: true\n  teacher_on_test: true\n`);
    const run = await runDistill(['run', pipeline], { TINY_RUNS: runs }, 300_000);
    assert.equal(run.code, 0, run.stderr);
    runDirectory = path.join(runs, 'tiny-quickstart');
  });
  after(() => rmSync(runs, { recursive: true, force: true }));

  test('against the teacher: a valid calibration.json in the model folder, and test achievements that match the evaluate stage', async () => {
    const model = path.join(runDirectory, 'model');
    const run = await runDistill(['calibrate', model, '--targets', '0.5,0.7,0.99', '--json'], {}, 120_000);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { file: string; calibration: CalibrationFile; curve: { coverage: number }[] };
    assert.equal(result.file, path.join(model, 'calibration.json'));
    const stored = readCalibrationFile(model)!;
    assert.deepEqual(stored, result.calibration);
    assert.equal(calibrationProblem(stored), null);
    assert.equal(stored.against, 'teacher');
    assert.equal(stored.confidence, 'label-probability');
    assert.deepEqual(
      stored.thresholds.map((entry) => entry.target),
      [0.5, 0.7, 0.99],
    );
    // 0.99 cannot be promised from a few dozen validation examples (0.05^(1/24) = 0.88).
    assert.deepEqual(stored.thresholds[2], {
      target: 0.99,
      threshold: null,
      expected_coverage: 0,
      validation_agreement: null,
      agreement_lower_bound: null,
    });
    for (const entry of stored.thresholds.filter((each) => each.threshold !== null))
      assert.ok(entry.agreement_lower_bound! >= entry.target);
    // The export's own folder holds it too, so a rerun that relinks model/ keeps it.
    assert.deepEqual(readCalibrationFile(path.join(stageFolder(runDirectory, 'export'), 'model')), stored);

    // Test, recomputed from what the evaluate stage wrote: its label-scoring confidences and the teacher's test answers.
    const evaluate = stageFolder(runDirectory, 'evaluate');
    const predictions = jsonLines<{ id: string; predicted: string; confidence: number }>(path.join(evaluate, 'predictions.jsonl'));
    const teacher = new Map(
      jsonLines<{ id: string; teacher_label: string | null }>(path.join(evaluate, 'teacher-test', 'teacher-records.jsonl')).map(
        (record) => [record.id, record.teacher_label],
      ),
    );
    assert.equal(stored.test!.length, 3);
    for (const achieved of stored.test!) {
      assert.equal(achieved.examples, predictions.length);
      // The evaluate stage scored on several threads: a confidence a rounding away from the threshold may fall either side.
      const count = (margin: number, agreeingOnly: boolean) =>
        predictions.filter((prediction) => {
          const covered = achieved.threshold !== null && prediction.confidence >= achieved.threshold + margin;
          if (!agreeingOnly) return covered;
          return covered ? prediction.predicted === teacher.get(prediction.id) : true;
        }).length;
      const covered = achieved.coverage * predictions.length;
      assert.ok(covered >= count(1e-6, false) && covered <= count(-1e-6, false), JSON.stringify(achieved));
      const agreeing = achieved.agreement * predictions.length;
      const [low, high] = [count(-1e-6, true), count(1e-6, true)].sort((left, right) => left - right);
      assert.ok(agreeing >= low! && agreeing <= high!, JSON.stringify(achieved));
    }
    assert.deepEqual(stored.test![2], { target: 0.99, threshold: null, coverage: 0, agreement: 1, examples: predictions.length });
    // The curve: coverage rising to every validation example.
    assert.equal(result.curve.at(-1)!.coverage, 1);
  });

  test("against gold on the run folder: the teacher's own test accuracy where it answers everything", async () => {
    const run = await runDistill(['calibrate', runDirectory, '--against', 'gold', '--targets', '0.3,0.999'], {}, 120_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /calibrated against gold on \d+ validation examples \(label-probability, Clopper-Pearson 0\.95 lower bound\)/);
    assert.match(run.stdout, /target 99\.9%: none reaches it/);
    const stored = readCalibrationFile(path.join(runDirectory, 'model'))!;
    assert.equal(stored.against, 'gold');
    const evaluate = JSON.parse(readFileSync(path.join(stageFolder(runDirectory, 'evaluate'), 'stage.json'), 'utf8')) as {
      output: { teacherOnTest: { accuracy: number } };
    };
    const fallbackOnly = stored.test!.find((entry) => entry.target === 0.999)!;
    assert.equal(fallbackOnly.agreement, evaluate.output.teacherOnTest.accuracy);
  });

  test('evaluation.calibrate: the run calibrates in its evaluate stage, and the report shows the curve and the table', async () => {
    const pipeline = path.join(runs, 'calibrated-in-run.yaml');
    writeFileSync(
      pipeline,
      `extends: ${JSON.stringify(tinyPipeline)}\nevaluation:\n  score_labels: true\n  teacher_on_test: true\n  calibrate: true\n`,
    );
    const run = await runDistill(['run', pipeline], { TINY_RUNS: runs }, 300_000);
    assert.equal(run.code, 0, run.stderr);
    const stored = readCalibrationFile(path.join(runDirectory, 'model'))!;
    assert.equal(calibrationProblem(stored), null);
    assert.deepEqual(
      stored.thresholds.map((entry) => entry.target),
      [0.9, 0.95, 0.98, 0.99],
    );
    assert.equal(stored.test!.length, 4);
    const evaluate = JSON.parse(readFileSync(path.join(stageFolder(runDirectory, 'evaluate'), 'stage.json'), 'utf8')) as {
      output: { calibration: { calibration: CalibrationFile; curve: unknown[] } };
    };
    assert.deepEqual(evaluate.output.calibration.calibration, stored);
    const html = readFileSync(path.join(runDirectory, 'report.html'), 'utf8');
    assert.ok(html.includes('agreement on validation'), 'the curve');
    assert.match(html, /<h2>Calibration against teacher \(\d+ validation examples, label probability/);
    // The tiny student reaches none of the default targets: the run's last lines say so (the
    // reachable case's wording: test/core/calibration/student-first-lines.test.ts).
    assert.ok(stored.thresholds.every((entry) => entry.threshold === null));
    assert.match(
      run.stdout,
      /student first: no confidence threshold reaches 90\.0%, 95\.0%, 98\.0%, 99\.0% agreement with the teacher on validation/,
    );
  });

  test('bad input: clear errors, no stack trace', async (context) => {
    const scratch = temporaryDirectory(context);
    const expectError = async (args: string[], pattern: RegExp) => {
      const run = await runDistill(['calibrate', ...args], {}, 120_000);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      assert.match(run.stderr, pattern);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    };
    await expectError([path.join(scratch, 'missing')], /is not a folder/);
    mkdirSync(path.join(scratch, 'loose-model', 'onnx'), { recursive: true });
    // A T5 student's encoder graph is what makes a folder a model folder.
    writeFileSync(path.join(scratch, 'loose-model', 'onnx', 'encoder_model.onnx'), '');
    await expectError(
      [path.join(scratch, 'loose-model')],
      /a model folder outside a run folder: calibration needs the run's validation split and teacher records/,
    );
    await expectError([runDirectory, '--targets', '0.9,1.5'], /--targets: "1\.5" is not an agreement strictly between 0 and 1/);

    // A copy of the run without its teacher records, then without its validation split, then without its model.
    const copy = path.join(scratch, 'run');
    cpSync(runDirectory, copy, { recursive: true });
    rmSync(path.join(stageFolder(copy, 'teacher'), 'teacher-records.jsonl'));
    rmSync(path.join(stageFolder(copy, 'evaluate'), 'teacher-test'), { recursive: true });
    await expectError([copy], /has no teacher records/);
    rmSync(path.join(stageFolder(copy, 'trainer'), 'data', 'validation.jsonl'));
    await expectError([copy], /has no validation split/);
    rmSync(path.join(copy, 'model'), { recursive: true });
    rmSync(path.join(stageFolder(copy, 'export'), 'model'), { recursive: true });
    await expectError([copy], /has no exported model/);
    assert.ok(existsSync(copy) && readdirSync(copy).length > 0);
  });
});
