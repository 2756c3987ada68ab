import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { defaultVirtualenvPython } from '../../../../core/python/python-interpreter.js';
import { torchTrainer } from '../../../../plugins/trainers/torch/torch-trainer.js';
import { testDependencies } from '../../../support/test-dependencies.js';

/** What the interpreter itself prints for a Python expression. */
function printed(expression: string): string {
  return execFileSync(defaultVirtualenvPython, ['-c', `import torch, transformers, tokenizers, platform; print(${expression})`], {
    encoding: 'utf8',
  }).trim();
}

test("the torch trainer's environment: the versions its worker's handshake reports are the interpreter's own", async () => {
  // devices: 2 would train under torchrun; the report starts one plain worker all the same.
  const trainer = await torchTrainer.create({ devices: 2 }, testDependencies({ environment: process.env }));
  assert.ok(trainer.environment !== undefined, 'the torch trainer implements environment()');
  const { packages } = await trainer.environment();
  assert.equal(packages.torch, printed('torch.__version__'));
  assert.equal(packages.transformers, printed('transformers.__version__'));
  assert.equal(packages.tokenizers, printed('tokenizers.__version__'));
  assert.equal(packages.python, printed('platform.python_version()'));
  assert.match(packages.torch, /^2\.13\.0/);
});

test('a trainer whose Python cannot import torch cannot report its environment, and says why', async () => {
  const trainer = await torchTrainer.create({ python: '/usr/bin/python3' }, testDependencies({ environment: { PATH: process.env.PATH } }));
  await assert.rejects(trainer.environment!(), /cannot import torch, transformers and tokenizers/);
});
