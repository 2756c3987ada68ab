import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { calibratedStudent, writeCalibration, writeFallbackPipeline } from '../core/serving/fallback-fixture.js';
import { tinyStudentMissing } from '../core/inference/tiny-student-fixture.js';
import { runDistill } from '../support/run-distill.js';
import { startProviderServer } from '../support/provider-server.js';
import { temporaryDirectory } from '../support/temporary-directory.js';
import { environmentWithout, startServe } from './serve-process.js';

describe('distill serve --fallback (the CLI)', () => {
  test('a model folder without calibration.json: a clear error naming distill calibrate, no stack trace', async (context) => {
    const directory = temporaryDirectory(context);
    const model = path.join(directory, 'model');
    mkdirSync(model);
    const pipeline = writeFallbackPipeline({ directory, baseUrl: 'http://127.0.0.1:9/v1' });
    const run = await runDistill(['serve', '--model', model, '--port', '0', '--fallback', '--pipeline', pipeline, '--target', '0.95']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /no calibration\.json/);
    assert.match(run.stderr, /distill calibrate/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  test('an unreachable target lists the reachable ones; --pipeline without --fallback is refused', async (context) => {
    const directory = temporaryDirectory(context);
    const model = path.join(directory, 'model');
    mkdirSync(model);
    writeCalibration(model, [
      { target: 0.9, threshold: 0.8, expected_coverage: 0.7 },
      { target: 0.99, threshold: null, expected_coverage: 0 },
    ]);
    const pipeline = writeFallbackPipeline({ directory, baseUrl: 'http://127.0.0.1:9/v1' });
    const run = await runDistill(['serve', '--model', model, '--port', '0', '--fallback', '--pipeline', pipeline, '--target', '0.99']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /no confidence threshold .* reaches the target agreement 0\.99/);
    assert.match(run.stderr, /reachable targets: 0\.9 \(threshold 0\.8, expected coverage 0\.7\)/);
    const stray = await runDistill(['serve', '--model', model, '--port', '0', '--pipeline', pipeline]);
    assert.equal(stray.code, 1, stray.stderr);
    assert.match(stray.stderr, /--pipeline only apply with --fallback/);
  });

  test('serves with the teacher below the threshold, and /metrics counts the traffic', { skip: tinyStudentMissing() }, async (context) => {
    const directory = temporaryDirectory(context);
    const student = await calibratedStudent(directory);
    const teacher = await startProviderServer('openai', () => ({ kind: 'answer', text: 'Answer: neutral, because it says so.' }));
    context.after(() => teacher.close());
    const pipeline = writeFallbackPipeline({ directory, baseUrl: teacher.baseUrl });
    const reviewFile = path.join(directory, 'review.jsonl');
    const serve = await startServe(
      ['--model', student.model, '--fallback', '--pipeline', pipeline, '--target', '0.9', '--review-file', reviewFile],
      environmentWithout(),
    );
    context.after(() => serve.stop());
    const inputs = [student.sure[0]!.text, student.unsure[0]!.text];
    const response = await fetch(`${serve.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs }) });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { predictions: { source: string; label: string }[] };
    assert.deepEqual(
      body.predictions.map((prediction) => prediction.source),
      ['student', 'teacher'],
    );
    assert.equal(body.predictions[1]!.label, 'neutral');
    assert.equal(teacher.requests.length, 1);
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    assert.match(metrics, /^distill_predictions_total\{source="student"\} 1$/m);
    assert.match(metrics, /^distill_predictions_total\{source="teacher"\} 1$/m);
    const lines = readFileSync(reviewFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { input: string }).input, student.unsure[0]!.text);
  });
});
