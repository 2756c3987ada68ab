import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { evaluateStudent } from '../../../core/inference/evaluate-student.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { testDependencies } from '../../support/test-dependencies.js';
import { loadStudent, taskPrefixes, type Student } from '../../../core/inference/load-student.js';
import { createEvaluator, scorePredictions } from '../../../core/inference/score-predictions.js';
import { createStudentTokenizer } from '../../../core/inference/student-tokenizer.js';
import { readStudentFolder } from '../../../core/inference/student-folder.js';
import { dsbsDirectory } from '../../support/paths.js';
import { tinyStudent, tinyStudentMissing, type TinyStudent } from './tiny-student-fixture.js';

for (const kind of ['random', 'trained'] as const) {
  describe(`onnxruntime-node greedy decoding equals PyTorch generate (${kind} tiny T5, fp32)`, { skip: tinyStudentMissing() }, () => {
    let fixture: TinyStudent;
    let student: Student;
    before(async () => {
      fixture = await tinyStudent(kind);
      student = await loadStudent(fixture.exported, { maxNewTokens: fixture.reference.max_new_tokens });
    });
    // Unset when `before` failed, whatever its declared type says.
    after(async () => (student as Student | undefined)?.close());

    test('the JavaScript tokenizer gives the ids the Python tokenizer gave', () => {
      const folder = readStudentFolder(fixture.exported);
      const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
      const ids = fixture.test.map((example) => tokenizer.encode(taskPrefixes.predict + example.input));
      assert.deepEqual(ids, fixture.reference.input_ids);
      const truncated = fixture.test.map((example) => tokenizer.encode(taskPrefixes.predict + example.input, 16));
      assert.deepEqual(truncated, fixture.reference.truncated_input_ids);
    });

    test('predict: and explain: token ids equal PyTorch greedy ids, token by token', async () => {
      const predictIds = await student.generateIds(fixture.test.map((example) => taskPrefixes.predict + example.input));
      const explainIds = await student.generateIds(fixture.test.map((example) => taskPrefixes.explain + example.input));
      assert.deepEqual(predictIds, fixture.reference.predict_ids);
      assert.deepEqual(explainIds, fixture.reference.explain_ids);
      if (kind === 'random') {
        // The untrained model rarely stops, so most rows run all steps: the cache is used at every position.
        const fullLength = [...predictIds, ...explainIds].filter((ids) => ids.length === fixture.reference.max_new_tokens).length;
        assert.ok(fullLength >= predictIds.length, `only ${fullLength} of ${2 * predictIds.length} rows ran all steps`);
      } else {
        // The trained student stops on its own, so the finished-row padding path is exercised too.
        const stopped = predictIds.filter((ids) => ids.at(-1) === 1).length;
        assert.ok(stopped >= predictIds.length / 2, `only ${stopped} labels end with </s>`);
      }
    });

    test('batch composition does not change the ids (padding is masked)', async () => {
      const inputs = fixture.test.slice(0, 5).map((example) => taskPrefixes.explain + example.input);
      const single = await loadStudent(fixture.exported, { maxNewTokens: fixture.reference.max_new_tokens, batchSize: 1 });
      try {
        assert.deepEqual(await single.generateIds(inputs), fixture.reference.explain_ids.slice(0, 5));
      } finally {
        await single.close();
      }
    });

    test('two threads, sleeping or spinning workers, give the same ids', async () => {
      const inputs = fixture.test.slice(0, 5).map((example) => taskPrefixes.explain + example.input);
      for (const spinning of [false, true]) {
        const threaded = await loadStudent(fixture.exported, {
          maxNewTokens: fixture.reference.max_new_tokens,
          batchSize: 1,
          intraOpThreads: 2,
          spinning,
        });
        try {
          assert.deepEqual(await threaded.generateIds(inputs), fixture.reference.explain_ids.slice(0, 5), `spinning: ${spinning}`);
        } finally {
          await threaded.close();
        }
      }
    });

    test('decoded texts equal PyTorch decoded texts', async () => {
      const predictions = await student.predict(
        fixture.test.map((example) => example.input),
        { explain: true },
      );
      assert.deepEqual(
        predictions.map((prediction) => prediction.label),
        fixture.reference.predict_texts.map((text) => text.trim()),
      );
      assert.deepEqual(
        predictions.map((prediction) => prediction.rationale),
        fixture.reference.explain_texts.map((text) => text.trim()),
      );
    });
  });
}

describe('accuracy of the exported student equals the PyTorch accuracy', { skip: tinyStudentMissing() }, () => {
  test('evaluateStudent on e-SNLI test (what `distill eval` runs) scores what PyTorch scored', async () => {
    const fixture = await tinyStudent('trained');
    const evaluator = await createEvaluator(builtinRegistry(), 'exact-match', testDependencies());
    const pytorch = scorePredictions(evaluator, fixture.reference.predict_texts, fixture.test);
    const report = await evaluateStudent({
      model: fixture.exported,
      registry: builtinRegistry(),
      dataset: 'esnli',
      split: 'test',
      root: dsbsDirectory,
      limit: fixture.test.length,
      student: { maxNewTokens: fixture.reference.max_new_tokens },
    });
    assert.equal(report.examples, fixture.test.length);
    assert.equal(report.correct, pytorch.correct);
    assert.equal(report.accuracy, pytorch.accuracy);
    // A briefly trained student must beat nothing-correct, or this equality would prove little.
    assert.ok(pytorch.correct > 0, `PyTorch got ${pytorch.correct} right`);
  });
});
