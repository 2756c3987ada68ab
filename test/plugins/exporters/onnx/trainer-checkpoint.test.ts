import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createRootContainer, createRunContainer, pluginDependencies } from '../../../../core/container/root-container.js';
import { readEvaluationExamples } from '../../../../core/inference/evaluation-examples.js';
import { loadStudent, taskPrefixes } from '../../../../core/inference/load-student.js';
import type { Trainer } from '../../../../core/plugins/kinds/trainer.js';
import { builtinRegistry, exportStudent } from '../../../../plugins/composition-root.js';
import { evaluateStudent } from '../../../../plugins/index.js';
import { dsbsDirectory, testPath } from '../../../support/paths.js';
import { testPython, tinyStudentMissing } from '../../../core/inference/tiny-student-fixture.js';

const registry = builtinRegistry();
const skip = tinyStudentMissing() || (registry.has('trainer', 'torch') ? false : 'no torch trainer registered');

test(
  "an e-SNLI student from the torch trainer, exported: `distill eval` accuracy equals the trainer's test accuracy",
  { skip, timeout: 300_000 },
  async (context) => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'distill-trainer-export-'));
    try {
      const valid = (await readEvaluationExamples({ dataset: 'esnli', split: 'valid', root: dsbsDirectory, limit: 500 }, registry))
        .examples;
      const rationales = readFileSync(path.join(dsbsDirectory, 'esnli', 'esnli_valid.json'), 'utf8')
        .split('\n')
        .slice(0, 500)
        .map((line) => (JSON.parse(line) as { explanation_1?: string }).explanation_1 ?? '');
      const test = (await readEvaluationExamples({ dataset: 'esnli', split: 'test', root: dsbsDirectory, limit: 60 }, registry)).examples;
      const toTraining = (examples: typeof valid, withRationale: boolean) =>
        examples.map((example, index) => ({
          id: String(index),
          input: example.input,
          label: example.label,
          rationale: withRationale ? rationales[index]! : '',
        }));

      const root = createRootContainer({ registry });
      const run = createRunContainer(root, { baseDirectory: scratch, signal: new AbortController().signal });
      const dependencies = pluginDependencies(run);
      const trainer = (await registry.get('trainer', 'torch').create(
        {
          python: testPython,
          device: 'cpu',
          batch_size: 16,
          learning_rate: 2e-3,
          max_steps: 40,
          eval_every: 40,
          checkpoint_every: 40,
          threads: 1,
          generation_max_tokens: 16,
        },
        dependencies,
      )) as Trainer;
      const trained = await trainer.train(
        {
          outputDirectory: path.join(scratch, 'train'),
          train: toTraining(valid.slice(0, 400), true),
          validation: toTraining(valid.slice(400), false),
          test: test.map((example, index) => ({ id: `t${index}`, input: example.input, label: example.label, rationale: '' })),
          student: { size: 'tiny', tokenizer: { type: 'unigram', vocab_size: 800 }, max_input_length: 256, max_target_length: 64 },
          alpha: { start: 0.5, end: 0.5 },
          metric: 'exact-match',
          seed: 0,
          resume: false,
        },
        dependencies.events,
        dependencies.signal,
      );
      await run.dispose();

      const exported = await exportStudent({
        checkpoint: trained.checkpointDirectory,
        output: path.join(scratch, 'model'),
        python: testPython,
      });
      const report = await evaluateStudent({
        model: exported.outputDirectory,
        registry,
        dataset: 'esnli',
        split: 'test',
        root: dsbsDirectory,
        limit: test.length,
        student: { maxNewTokens: 16, maxInputTokens: 256 },
      });
      context.diagnostic(
        `trainer test accuracy ${trained.testAccuracy}, distill eval ${report.accuracy} (${report.correct}/${report.examples})`,
      );
      assert.equal(report.examples, test.length);
      assert.equal(report.accuracy, trained.testAccuracy);
      const readme = readFileSync(path.join(exported.outputDirectory, 'README.md'), 'utf8');
      assert.ok(readme.includes('`predict: `') && readme.includes('distill predict --model .'), 'the folder carries its README');

      // Accuracy can agree by chance (a briefly trained student predicts few labels), so compare
      // every generated token with PyTorch, on the diverse rationales too, through the trainer's own
      // tokenizer (NFKC, Metaspace) rather than the fixture's.
      const texts = test.slice(0, 20).flatMap((example) => [taskPrefixes.predict + example.input, taskPrefixes.explain + example.input]);
      writeFileSync(path.join(scratch, 'inputs.json'), JSON.stringify(texts));
      const pytorch = spawnSync(
        testPython,
        [
          testPath('plugins', 'exporters', 'onnx', 'fixtures', 'pytorch_greedy.py'),
          '--checkpoint',
          trained.checkpointDirectory,
          '--inputs',
          path.join(scratch, 'inputs.json'),
          '--max-new-tokens',
          '16',
          '--max-input-length',
          '256',
        ],
        { encoding: 'utf8', env: { ...process.env, TRANSFORMERS_VERBOSITY: 'error' } },
      );
      assert.equal(pytorch.status, 0, pytorch.stderr);
      const reference = JSON.parse(pytorch.stdout) as { ids: number[][]; texts: string[] };
      const student = await loadStudent(exported.outputDirectory, { maxNewTokens: 16, maxInputTokens: 256 });
      try {
        const ids = await student.generateIds(texts);
        assert.deepEqual(ids, reference.ids);
        assert.deepEqual(
          ids.map((row) => student.decode(row)),
          reference.texts.map((text) => text.trim()),
        );
        // How varied the compared text is (the tokenizer's training is not bit-reproducible, so this varies).
        context.diagnostic(`distinct rationales: ${new Set(reference.texts.filter((_, index) => index % 2 === 1)).size} of 20`);
      } finally {
        await student.close();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
);
