import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isUserError } from '../../../../core/errors/user-error.js';
import { loadStudent, taskPrefixes } from '../../../../core/inference/load-student.js';
import { createEvaluator, scorePredictions } from '../../../../core/inference/score-predictions.js';
import { builtinRegistry, exportStudent } from '../../../../plugins/composition-root.js';
import { testDependencies } from '../../../support/test-dependencies.js';
import { tinyStudent, tinyStudentMissing, testPython } from '../../../core/inference/tiny-student-fixture.js';

describe('onnx exporter', { skip: tinyStudentMissing() }, () => {
  test('writes the transformers.js layout, with the self- and cross-attention caches on the merged decoder', async () => {
    const fixture = await tinyStudent('random');
    assert.deepEqual(fixture.exportResult.files, [
      'config.json',
      'generation_config.json',
      'onnx/decoder_model_merged.onnx',
      'onnx/encoder_model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    // Pinned to what the Python tokenizer does, since the JavaScript tokenizers default to the opposite.
    const tokenizerConfig = JSON.parse(readFileSync(path.join(fixture.exported, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(tokenizerConfig.clean_up_tokenization_spaces, false);
    const total = fixture.exportResult.files.reduce((sum, file) => sum + statSync(path.join(fixture.exported, file)).size, 0);
    assert.equal(fixture.exportResult.bytes, total);

    const encoder = await ort.InferenceSession.create(path.join(fixture.exported, 'onnx', 'encoder_model.onnx'));
    assert.deepEqual([...encoder.inputNames].sort(), ['attention_mask', 'input_ids']);
    assert.deepEqual([...encoder.outputNames], ['last_hidden_state']);
    const decoder = await ort.InferenceSession.create(path.join(fixture.exported, 'onnx', 'decoder_model_merged.onnx'));
    // Per layer the self-attention cache, then the cross-attention one (projected once, on the first step).
    const cache = (prefix: string) =>
      [0, 1].flatMap((layer) =>
        ['decoder', 'encoder'].flatMap((kind) => ['key', 'value'].map((part) => `${prefix}.${layer}.${kind}.${part}`)),
      );
    assert.deepEqual(
      [...decoder.inputNames],
      ['input_ids', 'encoder_attention_mask', 'encoder_hidden_states', ...cache('past_key_values')],
    );
    assert.deepEqual([...decoder.outputNames], ['logits', ...cache('present')]);
    await encoder.release();
    await decoder.release();
  });

  test('int8: the quantised graphs load, and their accuracy is measured against fp32 on the test split', async (context) => {
    const fixture = await tinyStudent('trained');
    const comparison = fixture.exportResult.quantization;
    assert.ok(comparison, 'a quantised export with a comparison split reports the comparison');
    assert.equal(comparison.examples, fixture.test.length);
    assert.ok(
      comparison.quantizedBytes < comparison.fullPrecisionBytes * 0.75,
      `int8 ${comparison.quantizedBytes} B vs fp32 ${comparison.fullPrecisionBytes} B`,
    );
    context.diagnostic(
      `int8 accuracy ${comparison.quantizedAccuracy.toFixed(3)} vs fp32 ${comparison.fullPrecisionAccuracy.toFixed(3)} ` +
        `on ${comparison.examples} e-SNLI test examples, agreement ${(comparison.agreement * 100).toFixed(1)}%`,
    );

    // The figures are what the two precisions score now through the Node decoder, with its defaults
    // (the exporter's settings: 64 new tokens, batches of 16).
    const evaluator = await createEvaluator(builtinRegistry(), 'exact-match', testDependencies());
    const labels: Record<'fp32' | 'int8', string[]> = { fp32: [], int8: [] };
    for (const precision of ['fp32', 'int8'] as const) {
      const student = await loadStudent(fixture.exported, { precision });
      try {
        labels[precision] = (await student.predict(fixture.test.map((example) => example.input))).map((prediction) => prediction.label);
        assert.ok((await student.generateIds([taskPrefixes.predict + fixture.test[0]!.input]))[0]!.length > 0);
      } finally {
        await student.close();
      }
    }
    assert.equal(comparison.fullPrecisionAccuracy, scorePredictions(evaluator, labels.fp32, fixture.test).accuracy);
    assert.equal(comparison.quantizedAccuracy, scorePredictions(evaluator, labels.int8, fixture.test).accuracy);
    const agreeing = labels.int8.filter((label, index) => label === labels.fp32[index]).length;
    assert.equal(comparison.agreement, agreeing / fixture.test.length);
  });

  test('a folder that is not a checkpoint is a UserError naming the missing files', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'distill-onnx-export-'));
    try {
      writeFileSync(path.join(scratch, 'config.json'), JSON.stringify({ model_type: 't5' }));
      await assert.rejects(
        exportStudent({ checkpoint: scratch, output: path.join(scratch, 'out'), python: testPython }),
        (error: unknown) => {
          assert.ok(isUserError(error), String(error));
          assert.match(error.message, /lacks tokenizer\.json, tokenizer_config\.json, model\.safetensors/);
          assert.equal(error.problems[0]!.plugin, 'exporter/onnx');
          return true;
        },
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
