import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isUserError, UserError } from '../../../core/errors/user-error.js';
import { loadStudent } from '../../../core/inference/load-student.js';
import { onnxFileNames, readStudentFolder } from '../../../core/inference/student-folder.js';

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
});
