import assert from 'node:assert/strict';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isUserError } from '../../../core/errors/user-error.js';
import { loadStudent } from '../../../core/inference/load-student.js';
import {
  choosePrecision,
  defaultPrecisionOf,
  precisionChoiceFileName,
  readPrecisionChoice,
  writePrecisionChoice,
  type PrecisionChoice,
} from '../../../core/inference/precision-choice.js';
import { exportStudent } from '../../../plugins/composition-root.js';
import { dsbsDirectory } from '../../support/paths.js';
import { runDistill } from '../../support/run-distill.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testPython, tinyStudent, tinyStudentMissing } from './tiny-student-fixture.js';

const measured = (examples: number, full: number | null, quantized: number | null) => ({
  metric: 'exact-match',
  examples,
  fullPrecisionAccuracy: full,
  quantizedAccuracy: quantized,
});

describe('the default precision of an exported folder', () => {
  test('int8 only when it costs under half a point on at least 200 examples', () => {
    assert.equal(choosePrecision(measured(200, 0.8, 0.796), 'the validation split').default, 'int8');
    assert.equal(choosePrecision(measured(200, 0.8, 0.81), 'the validation split').default, 'int8');
    assert.equal(choosePrecision(measured(1000, 0.8, 0.795), 'the validation split').default, 'fp32');
    assert.equal(choosePrecision(measured(199, 0.8, 0.8), 'the validation split').default, 'fp32');
    assert.equal(choosePrecision(measured(40, null, null), 'the validation split').default, 'fp32');
    const refused = choosePrecision(measured(400, 0.7185, 0.5185), 'the validation split');
    assert.match(
      refused.reason,
      /^fp32: exact-match 0\.5185 in int8 against 0\.7185 in fp32 on 400 examples of the validation split; int8 would cost 20\.00 points/,
    );
    const chosen = choosePrecision(measured(300, 0.32, 0.32), 'esnli/valid');
    assert.match(chosen.reason, /^int8: .* on 300 examples of esnli\/valid, a cost of 0\.00 points, under half a point$/);
    assert.match(choosePrecision(measured(40, null, null), 'x').reason, /40 examples of x, fewer than the 200 needed/);
  });

  test('the choice file round-trips; a missing one means fp32; a bad, oversized or linked one is a clear error', (context) => {
    const folder = temporaryDirectory(context);
    assert.equal(readPrecisionChoice(folder), null);
    assert.equal(defaultPrecisionOf(folder), 'fp32');
    const choice = choosePrecision(measured(250, 0.5, 0.5), 'the validation split');
    writePrecisionChoice(folder, choice);
    assert.deepEqual(readPrecisionChoice(folder), choice);
    assert.equal(defaultPrecisionOf(folder), 'int8');

    const file = path.join(folder, precisionChoiceFileName);
    const errorOf = (text: string) => {
      writeFileSync(file, text);
      try {
        readPrecisionChoice(folder);
      } catch (error) {
        assert.ok(isUserError(error), String(error));
        return error;
      }
      assert.fail('expected a UserError');
    };
    const wrongDefault = errorOf('{"format": 1, "default": "int4"}').problems[0]!;
    assert.deepEqual([wrongDefault.file, wrongDefault.pointer], [file, '/default']);
    assert.match(wrongDefault.message, /distill-precision\.json must be "fp32" or "int8"/);
    assert.match(errorOf('not json').message, /distill-precision\.json is not JSON/);
    assert.match(errorOf(JSON.stringify({ ...choice, pad: 'x'.repeat(70_000) })).message, /more than a precision choice's limit of 65536/);
    const fix = errorOf('[]').problems[0]!.fix ?? '';
    assert.match(fix, /distill export --quantize/);

    const elsewhere = temporaryDirectory(context);
    writePrecisionChoice(elsewhere, choice);
    const linked = temporaryDirectory(context);
    symlinkSync(path.join(elsewhere, precisionChoiceFileName), path.join(linked, precisionChoiceFileName));
    assert.throws(
      () => readPrecisionChoice(linked),
      (error: unknown) => isUserError(error) && /link/.test(error.message),
    );
  });
});

describe('loading a folder by its own default precision', { skip: tinyStudentMissing() }, () => {
  test('loadStudent, distill eval and distill predict load the chosen graphs unless asked otherwise', async (context) => {
    const fixture = await tinyStudent('trained');
    // A copy: the fixture folder is shared by other tests.
    const folder = path.join(temporaryDirectory(context), 'model');
    cpSync(fixture.exported, folder, { recursive: true });
    const inputs = fixture.test.map((example) => example.input);
    const predictWith = async (options: Parameters<typeof loadStudent>[1], texts = inputs) => {
      const student = await loadStudent(folder, options);
      try {
        return { precision: student.precision, labels: (await student.predict(texts)).map((prediction) => prediction.label) };
      } finally {
        await student.close();
      }
    };
    // The fixture's own export compared on 24 examples: too few, so fp32 (a fixture cached before distill chose has no file: fp32 too).
    assert.equal(defaultPrecisionOf(folder), 'fp32');
    assert.equal((await predictWith({})).precision, 'fp32');

    writePrecisionChoice(folder, choosePrecision(measured(200, 0.5, 0.5), 'the validation split'));
    const chosen = await predictWith({});
    const int8 = await predictWith({ precision: 'int8' });
    assert.deepEqual(chosen, int8);
    assert.equal((await predictWith({ precision: 'fp32' })).precision, 'fp32');

    const scoring = ['--dataset', 'esnli', '--root', dsbsDirectory, '--split', 'test', '--limit', '8'];
    const evaluate = async (...flags: string[]) => {
      const run = await runDistill(['eval', '--json', '--model', folder, ...scoring, ...flags]);
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as { precision: string }).precision;
    };
    assert.equal(await evaluate(), 'int8');
    assert.equal(await evaluate('--precision', 'fp32'), 'fp32');
    assert.equal(await evaluate('--quantized'), 'int8');
    const both = await runDistill(['predict', '--model', folder, '--quantized', '--precision', 'fp32', inputs[0]!]);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--precision|--quantized/);
    assert.doesNotMatch(both.stderr, /\n\s+at /);
    const predicted = await runDistill(['predict', '--model', folder, inputs[0]!]);
    assert.equal(predicted.code, 0, predicted.stderr);
    // One text alone: int8 answers depend on the batch (docs/onnx-layout.md), so the reference is the same text alone.
    assert.equal(predicted.stdout.trim(), (await predictWith({ precision: 'int8' }, [inputs[0]!])).labels[0]);
  });

  test('distill export --quantize with 200 examples to compare on writes the choice the rule gives, and the README says it', async (context) => {
    const fixture = await tinyStudent('trained');
    const output = path.join(temporaryDirectory(context), 'exported');
    const result = await exportStudent({
      checkpoint: fixture.checkpoint,
      output,
      quantize: true,
      python: testPython,
      comparison: { dataset: 'esnli', split: 'valid', root: dsbsDirectory, limit: 200 },
    });
    const comparison = result.quantization!;
    assert.equal(comparison.examples, 200);
    const choice = readPrecisionChoice(output) as PrecisionChoice;
    assert.deepEqual(choice, choosePrecision(comparison, 'esnli/valid'));
    assert.equal(choice.quantizedAccuracy, comparison.quantizedAccuracy);
    assert.deepEqual(Object.keys(choice).sort(), [
      'default',
      'examples',
      'format',
      'fullPrecisionAccuracy',
      'metric',
      'quantizedAccuracy',
      'reason',
      'source',
    ]);
    const readme = readFileSync(path.join(output, 'README.md'), 'utf8');
    assert.ok(readme.includes(`Loaded by default: ${choice.default} (\`distill-precision.json\``), readme);
    assert.ok(readme.includes(choice.reason), readme);
  });
});
