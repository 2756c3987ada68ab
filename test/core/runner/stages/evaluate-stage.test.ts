import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPipeline } from '../../../../core/config/load-pipeline.js';
import { isUserError } from '../../../../core/errors/user-error.js';
import { evaluateStudent } from '../../../../core/inference/evaluate-student.js';
import { dryRunPipeline } from '../../../../core/runner/dry-run.js';
import { builtinRegistry, runPipeline } from '../../../../plugins/index.js';
import { tinyCausalLmMissing } from '../../inference/tiny-causal-lm-fixture.js';
import { testPath } from '../../../support/paths.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-causal-lm-quickstart.yaml');

/** The tiny causal-LM pipeline with a change, as a user would make it: a file that extends it. */
function variant(directory: string, name: string, yaml: string): string {
  const file = path.join(directory, `${name}.yaml`);
  writeFileSync(file, `extends: ${JSON.stringify(pipeline)}\n${yaml}`);
  return file;
}

test(
  'evaluation { score_labels: true, precision: int8 }: the evaluate stage scores the int8 graphs by label scoring and says so',
  { skip: tinyCausalLmMissing(), timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const environment = { ...process.env, TINY_RUNS: runs };
    const file = variant(runs, 'scored', 'evaluation: { score_labels: true, precision: int8 }\n');
    const result = await runPipeline(file, { environment });
    assert.deepEqual(
      result.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:computed', 'teacher:computed', 'trainer:computed', 'export:computed', 'evaluate:computed'],
    );
    const evaluated = result.outcomes.of('evaluate')!.record.output;
    assert.equal(evaluated.decoding, 'label-scoring');
    assert.equal(evaluated.precision, 'int8');
    assert.equal(evaluated.examples, 60);
    // The export stage chose the folder's default on validation: too few examples to tell half a point, so fp32.
    const choice = result.outcomes.of('export')!.record.output.precisionChoice!;
    assert.deepEqual([choice.default, choice.source, choice.fullPrecisionAccuracy], ['fp32', 'the validation split', null]);
    assert.equal(choice.examples, result.outcomes.of('trainer')!.record.output.data.validation);
    // The stage's accuracy is the one `distill eval --score-labels --quantized` gives on the same split.
    const exported = result.outcomes.of('export')!.record.output.directory;
    const testFile = result.outcomes.of('dataset')!.record.output.testFile;
    const registry = builtinRegistry();
    const direct = await evaluateStudent({
      model: exported,
      registry,
      dataset: testFile,
      metric: 'exact-match',
      scoreLabels: true,
      student: { precision: 'int8' },
    });
    assert.equal(direct.precision, 'int8');
    assert.equal(evaluated.accuracy, direct.accuracy);
    assert.equal(result.summary.student!.exportedEvaluation, 'label scoring, int8');
    assert.match(readFileSync(result.report.markdown, 'utf8'), /\| label scoring, int8 \|/);
  },
);

test(
  'the evaluation block joins the evaluate signature only where it changes the defaults; earlier stages keep theirs',
  { skip: tinyCausalLmMissing() },
  async (context) => {
    const runs = temporaryDirectory(context);
    const environment = { ...process.env, TINY_RUNS: runs };
    const registry = builtinRegistry();
    const signatures = async (file: string) =>
      Object.fromEntries((await dryRunPipeline(file, registry, environment)).stages.map((stage) => [stage.stage, stage.signature]));
    const plain = await signatures(pipeline);
    const defaults = await signatures(variant(runs, 'defaults', 'evaluation: {}\n'));
    const explicit = await signatures(variant(runs, 'explicit', 'evaluation: { score_labels: false }\n'));
    const scored = await signatures(variant(runs, 'scored', 'evaluation: { score_labels: true }\n'));
    const int8 = await signatures(variant(runs, 'int8', 'evaluation: { precision: int8 }\n'));
    // fp32 named is not the default: unset, the folder's own choice (distill-precision.json) is evaluated.
    const fp32 = await signatures(variant(runs, 'fp32', 'evaluation: { precision: fp32 }\n'));
    assert.deepEqual(defaults, plain, 'an empty block is the defaults');
    assert.deepEqual(explicit, plain, 'the defaults written out');
    for (const changed of [scored, int8, fp32]) {
      assert.notEqual(changed.evaluate, plain.evaluate);
      assert.deepEqual({ ...changed, evaluate: null }, { ...plain, evaluate: null });
    }
    assert.notEqual(scored.evaluate, int8.evaluate);
    assert.notEqual(fp32.evaluate, int8.evaluate);
    // Asking the teacher on test changes the evaluate stage alone; the CPU price only the report.
    const teacherOnTest = await signatures(variant(runs, 'teacher-on-test', 'evaluation: { teacher_on_test: true }\n'));
    assert.notEqual(teacherOnTest.evaluate, plain.evaluate);
    assert.deepEqual({ ...teacherOnTest, evaluate: null }, { ...plain, evaluate: null });
    const priced = await signatures(variant(runs, 'priced', 'evaluation: { cpu_price_per_hour: 0.2 }\n'));
    assert.deepEqual(priced, plain);
  },
);

test('evaluation.precision int8 with an export that writes no int8 graphs is a validation error naming the fix', async (context) => {
  const runs = temporaryDirectory(context);
  const file = variant(runs, 'no-int8', 'export:\n  options: { quantize: false }\nevaluation:\n  precision: int8\n');
  await assert.rejects(loadPipeline(file, { environment: { TINY_RUNS: runs }, registry: builtinRegistry() }), (error: unknown) => {
    assert.ok(isUserError(error), String(error));
    assert.equal(error.problems.length, 1);
    const problem = error.problems[0]!;
    assert.equal(problem.pointer, '/evaluation/precision');
    assert.equal(problem.plugin, 'exporter/onnx');
    assert.equal(path.resolve(problem.file!), file);
    assert.deepEqual([problem.line, problem.column], [5, 3]);
    assert.match(problem.message, /precision is int8, but the export step \(onnx\) is set to write no int8 graphs/);
    assert.match(problem.fix!, /set export\.options\.quantize: true.*or evaluate with precision: fp32/);
    return true;
  });
  // The same block with int8 graphs written is valid.
  const quantized = variant(runs, 'int8', 'evaluation:\n  precision: int8\n');
  const loaded = await loadPipeline(quantized, { environment: { TINY_RUNS: runs }, registry: builtinRegistry() });
  assert.deepEqual(loaded.config.evaluation, { score_labels: false, precision: 'int8', teacher_on_test: false, cpu_price_per_hour: 0.05 });
});

test('score_labels on a dataset without a closed label set is refused before any stage runs, naming the fix', async (context) => {
  const runs = temporaryDirectory(context);
  // The configuration tests' fixture dataset answers in free text (its label set is null).
  const base = testPath('core', 'config', 'fixtures', 'valid', 'base.yaml');
  const file = path.join(runs, 'free-text.yaml');
  writeFileSync(
    file,
    `extends: ${JSON.stringify(base)}\nexport: { use: onnx }\nevaluation: { score_labels: true }\ncache: { enabled: false }\noutput: { directory: ${JSON.stringify(runs)} }\n`,
  );
  await assert.rejects(dryRunPipeline(file, builtinRegistry(), { FIXTURE_API_KEY: 'sk-fixture-secret-1' }), (error: unknown) => {
    assert.ok(isUserError(error), String(error));
    const problem = error.problems[0]!;
    assert.equal(problem.pointer, '/evaluation/score_labels');
    assert.equal(problem.plugin, 'dataset/fixture-dataset');
    assert.match(problem.message, /scores a closed set of labels, but the dataset \(fixture-dataset\) has none/);
    assert.match(problem.fix!, /evaluation\.score_labels: false/);
    return true;
  });
});
