import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../../../core/errors/user-error.js';
import { exportStudent } from '../../../../plugins/composition-root.js';
import { testPython } from '../../../core/inference/tiny-student-fixture.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

// A pytorch_model.bin whose pickle creates a marker file when unpickled the ordinary way.
const plantWeights = `
import sys, torch
class Payload:
    def __reduce__(self):
        return (open, (sys.argv[2], "w"))
torch.save({"shared.weight": Payload()}, sys.argv[1])
`;

test(
  'a checkpoint folder whose pytorch_model.bin is a planted pickle: a UserError, and the pickle never runs',
  { skip: existsSync(testPython) ? false : `no Python at ${testPython}` },
  async (context) => {
    const checkpoint = temporaryDirectory(context, 'distill-pickled-weights-');
    writeFileSync(
      path.join(checkpoint, 'config.json'),
      JSON.stringify({
        model_type: 't5',
        architectures: ['T5ForConditionalGeneration'],
        vocab_size: 40,
        d_model: 16,
        d_ff: 32,
        d_kv: 4,
        num_heads: 2,
        num_layers: 1,
        num_decoder_layers: 1,
      }),
    );
    writeFileSync(path.join(checkpoint, 'tokenizer.json'), '{}');
    writeFileSync(path.join(checkpoint, 'tokenizer_config.json'), '{}');
    const weights = path.join(checkpoint, 'pytorch_model.bin');
    const marker = path.join(checkpoint, 'pickle-ran');
    execFileSync(testPython, ['-c', plantWeights, weights, marker]);
    // The payload is live: unpickled the ordinary way, it leaves its marker.
    execFileSync(testPython, ['-c', 'import sys, torch; torch.load(sys.argv[1], weights_only=False)', weights]);
    assert.ok(existsSync(marker));
    rmSync(marker);

    await assert.rejects(exportStudent({ checkpoint, output: path.join(checkpoint, 'out'), python: testPython }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /the weights in .* are a pickle that asks for (io|builtins)\.open; they were not loaded/);
      assert.match(error.problems[0]!.fix ?? '', /safetensors/);
      return true;
    });
    assert.ok(!existsSync(marker), 'the planted pickle did not run');
  },
);
