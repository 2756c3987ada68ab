import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { percent } from '../../../core/report/statistics.js';
import { labelsEqual } from '../../../core/teacher/teacher-report.js';
import { runPipeline } from '../../../plugins/index.js';
import { tinyCausalLmMissing } from '../inference/tiny-causal-lm-fixture.js';
import { chromiumMissing, screenshotInChromium } from '../../support/headless-chromium.js';
import { testPath } from '../../support/paths.js';
import { distillBin } from '../../support/run-distill.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-causal-lm-quickstart.yaml');

/** Width and height from a PNG's IHDR chunk (bytes 16–23). */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** JSON lines of a file. */
function jsonLines<Value>(file: string): Value[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Value);
}

const skip = tinyCausalLmMissing() || chromiumMissing();

test(
  'a real tiny run with evaluation.teacher_on_test: the report at 1280 px shows teacher and student accuracy on the same test examples, both costs per 1,000 predictions and a usage snippet that works',
  { skip, timeout: 900_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const file = path.join(runs, 'compared.yaml');
    writeFileSync(
      file,
      `extends: ${JSON.stringify(pipeline)}\nevaluation: { score_labels: true, teacher_on_test: true, cpu_price_per_hour: 0.04 }\n`,
    );
    const result = await runPipeline(file, { environment: { ...process.env, TINY_RUNS: runs } });
    const evaluated = result.outcomes.of('evaluate')!.record.output;
    const evaluateFolder = result.outcomes.of('evaluate')!.directory;
    const testFile = result.outcomes.of('dataset')!.record.output.testFile;
    const gold = jsonLines<{ id: string; label: string }>(testFile);

    // The teacher answered exactly the student's test examples, and its accuracy is theirs.
    const onTest = evaluated.teacherOnTest!;
    assert.equal(evaluated.examples, 60);
    assert.equal(onTest.examples, 60);
    const teacherRecords = new Map(
      jsonLines<{ id: string; split: string; teacher_label: string | null }>(path.join(evaluateFolder, onTest.recordsFile)).map(
        (record) => [record.id, record],
      ),
    );
    assert.ok([...teacherRecords.values()].every((record) => record.split === 'test'));
    const teacherCorrect = gold.filter((example) => {
      const label = teacherRecords.get(example.id)?.teacher_label;
      return label !== null && label !== undefined && labelsEqual(label, example.label);
    }).length;
    assert.equal(onTest.correct, teacherCorrect);
    // The training stage never saw them: its records hold the training split only.
    const trainingRecords = jsonLines<{ split: string }>(path.join(result.outcomes.of('teacher')!.directory, 'teacher-records.jsonl'));
    assert.ok(trainingRecords.every((record) => record.split === 'valid'));

    // The student's predictions file is what its accuracy and confusion matrix count.
    const predictions = jsonLines<{ id: string; gold: string; predicted: string }>(path.join(evaluateFolder, evaluated.predictionsFile!));
    assert.deepEqual(
      predictions.map((prediction) => prediction.id),
      gold.map((example) => example.id),
    );
    const studentCorrect = predictions.filter((prediction) => labelsEqual(prediction.predicted, prediction.gold)).length;
    assert.equal(studentCorrect / 60, evaluated.accuracy);
    const confusion = evaluated.confusion!;
    assert.deepEqual([...confusion.labels.slice(0, 3)].sort(), ['contradiction', 'entailment', 'neutral']);
    assert.equal(
      confusion.counts.flat().reduce((sum, value) => sum + value, 0),
      60,
    );
    assert.equal(
      confusion.counts.reduce((sum, row, index) => sum + row[index]!, 0),
      studentCorrect,
    );
    assert.equal(evaluated.serving!.threads, 1);
    assert.ok(evaluated.serving!.cpuSeconds > 0);
    assert.ok(evaluated.latencyMilliseconds.p95 >= evaluated.latencyMilliseconds.p50);

    // The page, as a reader at 1280 px sees it.
    const png = path.join(runs, 'report-1280.png');
    const page = await screenshotInChromium(result.report.html, png, 1280);
    assert.equal(pngSize(png).width, 1280);
    assert.ok(page.scrollWidth <= 1280, `the page scrolls sideways at 1280 px (${page.scrollWidth} px wide)`);
    const comparison = result.summary.comparison!;
    assert.match(page.text, /Teacher and student on the same 60 test examples/);
    assert.match(
      page.text,
      new RegExp(`teacher\\s+recorded / palm-540b-recorded\\s+60 test examples\\s+${percent(onTest.accuracy).replace('.', '\\.')}`),
    );
    assert.match(
      page.text,
      new RegExp(`student\\s+exported student, in Node\\s+60 test examples\\s+${percent(evaluated.accuracy).replace('.', '\\.')}`),
    );
    assert.match(page.text, /Cost per 1,000 predictions/);
    const teacherCost = comparison.teacherCost!;
    assert.equal(teacherCost.measuredOn, 'test');
    assert.match(page.text, /[\d,]+ prompt \+ [\d,]+ completion tokens\s+no price known for recorded\/palm-540b-recorded: tokens only/);
    const studentCost = comparison.studentCost!;
    assert.equal(studentCost.dollarsPerThousand, (studentCost.cpuSecondsPerThousand / 3600) * 0.04);
    assert.match(
      page.text,
      new RegExp(`${studentCost.cpuSecondsPerThousand.toFixed(2)} CPU-seconds\\s+\\$[\\d.e-]+ at \\$0\\.04 per CPU-core hour`),
    );
    assert.match(page.text, /p50\s+p95\s+batch\s+onnxruntime threads/);
    // The loss chart's validation curve and chosen checkpoint come from the trainer's metrics (evaluations at steps 12 and 24).
    const student = result.summary.student!;
    assert.deepEqual(
      student.validationCurve!.points.map((point) => point.x),
      [12, 24],
    );
    assert.ok(student.bestStep === 12 || student.bestStep === 24);
    assert.ok(page.text.includes(`chosen checkpoint (step ${student.bestStep})`));
    assert.match(page.text, /Student confusion matrix/);
    assert.match(page.text, /The first 10 test examples/);
    assert.match(page.text, /Use the model/);
    assert.ok(page.text.includes(comparison.usage!.cli), 'the distill predict command, whole');
    assert.match(page.text, /import \{ loadStudent \} from 'distill';/);

    // The command the page prints answers the first example as the evaluate stage did.
    const command = comparison.usage!.cli.replace(/^distill /, `${JSON.stringify(process.execPath)} ${JSON.stringify(distillBin)} `);
    const printed = execFileSync('bash', ['-c', command], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(printed.split('\t')[0]!.trim(), evaluated.examplePredictions![0]!.student);
    assert.ok(existsSync(png));
  },
);
