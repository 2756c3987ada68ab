import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isUserError, UserError } from '../../../core/errors/user-error.js';
import { loadStudent } from '../../../core/inference/load-student.js';
import { causalLmFileName, onnxFileNames, readStudentFolder, type CausalLmStudentFolder } from '../../../core/inference/student-folder.js';

describe('a wrong model folder fails at load with a UserError naming what is missing', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'distill-student-folder-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('a folder that does not exist', async () => {
    await assert.rejects(loadStudent(path.join(scratch, 'nowhere')), (error: unknown) => {
      assert.ok(isUserError(error));
      assert.match(error.message, /does not exist/);
      assert.match(error.problems[0]!.fix ?? '', /distill export/);
      return true;
    });
  });

  test('a checkpoint folder (no onnx/) names each missing ONNX file', () => {
    const checkpoint = path.join(scratch, 'checkpoint');
    mkdirSync(checkpoint);
    for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) writeFileSync(path.join(checkpoint, name), '{}');
    assert.throws(
      () => readStudentFolder(checkpoint),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /lacks onnx\/encoder_model\.onnx, onnx\/decoder_model_merged\.onnx$/);
        return true;
      },
    );
    assert.throws(
      () => readStudentFolder(checkpoint, 'int8'),
      /lacks onnx\/encoder_model_quantized\.onnx, onnx\/decoder_model_merged_quantized\.onnx/,
    );
  });

  test('a folder with the files of another model type', () => {
    const other = path.join(scratch, 'bart');
    mkdirSync(path.join(other, 'onnx'), { recursive: true });
    writeFileSync(path.join(other, 'config.json'), JSON.stringify({ model_type: 'bart' }));
    for (const name of ['tokenizer.json', 'tokenizer_config.json', onnxFileNames('fp32').encoder, onnxFileNames('fp32').decoder]) {
      writeFileSync(path.join(other, name), '{}');
    }
    assert.throws(() => readStudentFolder(other), /holds a bart model/);
  });

  test('a config.json that is not JSON', () => {
    const broken = path.join(scratch, 'broken');
    mkdirSync(path.join(broken, 'onnx'), { recursive: true });
    for (const name of ['tokenizer.json', 'tokenizer_config.json', onnxFileNames('fp32').encoder, onnxFileNames('fp32').decoder]) {
      writeFileSync(path.join(broken, name), '{}');
    }
    writeFileSync(path.join(broken, 'config.json'), '{"model_type": "t5",');
    assert.throws(
      () => readStudentFolder(broken),
      (error: unknown) => isUserError(error) && /config\.json is not valid JSON/.test(error.message),
    );
  });

  /** A causal-LM folder's files but the graph, with `distill-student.json` as given. */
  function decoderFolder(name: string, descriptor: Record<string, unknown>): string {
    const folder = path.join(scratch, name);
    mkdirSync(folder);
    writeFileSync(
      path.join(folder, 'config.json'),
      JSON.stringify({ model_type: 'llama', num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 48 }),
    );
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) writeFileSync(path.join(folder, file), '{}');
    writeFileSync(path.join(folder, 'distill-student.json'), JSON.stringify(descriptor));
    return folder;
  }

  const descriptor = {
    format: 1,
    family: 'causal-lm',
    prompt_format: 'plain',
    prompt_special_tokens: true,
    chat: null,
    tasks: { predict: { prefix: '', suffix: '\nAnswer:' }, explain: { prefix: '', suffix: '\nExplanation:' } },
    target_prefix: ' ',
    targets: 'two-tasks',
    rationale_separator: '\nExplanation:',
    max_input_tokens: 256,
    max_new_tokens: 8,
    labels: ['contradiction', 'entailment', 'neutral'],
    eos_token_id: 2,
    pad_token_id: 2,
  };

  test('a decoder folder without onnx/model.onnx names the graph it lacks', () => {
    const folder = decoderFolder('decoder-without-graph', descriptor);
    assert.throws(
      () => readStudentFolder(folder),
      (error: unknown) => isUserError(error) && error.message.endsWith(`lacks ${causalLmFileName('fp32')}`),
    );
    assert.throws(() => readStudentFolder(folder, 'int8'), /lacks onnx\/model_quantized\.onnx/);
    // With the graph, the same folder reads as a causal LM with the cache shape of its config.
    mkdirSync(path.join(folder, 'onnx'));
    writeFileSync(path.join(folder, causalLmFileName('fp32')), '');
    const read = readStudentFolder(folder) as CausalLmStudentFolder;
    assert.equal(read.family, 'causal-lm');
    assert.deepEqual([read.headSize, read.keyValueHeads, read.layers], [12, 2, 2]);
  });

  test('a distill-student.json naming an unknown family, or with wrong fields, says which', () => {
    const unknown = decoderFolder('unknown-family', { ...descriptor, family: 'seq2seq' });
    assert.throws(
      () => readStudentFolder(unknown),
      (error: unknown) => {
        assert.ok(isUserError(error));
        assert.match(error.message, /names the student family "seq2seq", which distill does not know \(known: causal-lm/);
        assert.equal(error.problems[0]!.pointer, '/family');
        return true;
      },
    );
    const wrong = decoderFolder('wrong-fields', { ...descriptor, targets: 'both', max_new_tokens: 0, labels: [] });
    assert.throws(
      () => readStudentFolder(wrong),
      (error: unknown) => {
        assert.ok(isUserError(error));
        assert.deepEqual(error.problems.map((problem) => problem.pointer).sort(), ['/labels', '/max_new_tokens', '/targets']);
        return true;
      },
    );
  });
});
