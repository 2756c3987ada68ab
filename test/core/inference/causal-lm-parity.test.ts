import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promptIds, promptText } from '../../../core/inference/decoder-prompt.js';
import { loadStudent, type Student } from '../../../core/inference/load-student.js';
import { readStudentFolder, type CausalLmStudentFolder } from '../../../core/inference/student-folder.js';
import { createStudentTokenizer } from '../../../core/inference/student-tokenizer.js';
import { tinyCausalLm, tinyCausalLmMissing, type TinyCausalLm } from './tiny-causal-lm-fixture.js';

for (const kind of ['llama', 'qwen2', 'qwen3', 'gemma3_text'] as const) {
  describe(
    `a causal-LM student in onnxruntime-node decodes what PyTorch generates (${kind}, fp32)`,
    { skip: tinyCausalLmMissing() },
    () => {
      let fixture: TinyCausalLm;
      let folder: CausalLmStudentFolder;
      let student: Student;
      before(async () => {
        fixture = await tinyCausalLm(kind);
        folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
        student = await loadStudent(fixture.exported);
      });
      // Unset when `before` failed, whatever its declared type says.
      after(async () => (student as Student | undefined)?.close());

      test("the folder is read as a causal LM, with the descriptor's defaults", () => {
        assert.equal(folder.family, 'causal-lm');
        assert.equal(student.family, 'causal-lm');
        assert.equal(folder.keyValueHeads, 2);
        assert.equal(folder.descriptor.maxNewTokens, fixture.reference.max_new_tokens);
        assert.deepEqual(folder.descriptor.labels, ['contradiction', 'entailment', 'neutral']);
      });

      test("the prompt ids are the contract's: task markers, start token, the cut that keeps the suffix", () => {
        const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
        const inputs = fixture.test.map((example) => example.input);
        assert.deepEqual(
          inputs.map((input) => promptIds(tokenizer, folder.descriptor, 'predict', input)),
          fixture.reference.predict_prompt_ids,
        );
        assert.deepEqual(
          inputs.map((input) => promptIds(tokenizer, folder.descriptor, 'explain', input)),
          fixture.reference.explain_prompt_ids,
        );
        const short = inputs.map((input) =>
          promptIds(tokenizer, folder.descriptor, 'predict', input, fixture.reference.short_input_tokens),
        );
        assert.deepEqual(short, fixture.reference.short_prompt_ids);
        assert.ok(
          short.every((ids) => ids.length === fixture.reference.short_input_tokens),
          'every test prompt is longer than the cut',
        );
      });

      test('greedy ids of a left-padded batch equal PyTorch generate ids, token by token', async () => {
        const prompts = (task: 'predict' | 'explain') => fixture.test.map((example) => promptText(folder.descriptor, task, example.input));
        const predictIds = await student.generateIds(prompts('predict'));
        assert.deepEqual(predictIds, fixture.reference.predict_ids);
        assert.deepEqual(await student.generateIds(prompts('explain')), fixture.reference.explain_ids);
        const lengths = new Set(fixture.reference.predict_prompt_ids.map((ids) => ids.length));
        assert.ok(lengths.size > 3, 'the prompts differ in length, so the batch is left-padded');
        if (kind === 'gemma3_text') {
          // Every prompt runs past the sliding window, so its layer sees only the last keys at every step.
          const config = JSON.parse(readFileSync(path.join(fixture.exported, 'config.json'), 'utf8')) as { sliding_window: number };
          assert.ok(Math.min(...lengths) > config.sliding_window, `prompts of ${Math.min(...lengths)} tokens or more`);
        }
        const stopped = predictIds.filter((ids) => ids.at(-1) === folder.descriptor.eosTokenId).length;
        if (kind === 'llama') {
          // The trained student stops on its own, so finished rows are fed padding while others go on.
          assert.ok(stopped >= predictIds.length / 2, `only ${stopped} labels end with the end token`);
          assert.ok(new Set(predictIds.map((ids) => ids.length)).size > 1, 'every row stopped at the same step');
        } else {
          // The untrained one runs every step: the cache is used at every position.
          assert.equal(predictIds.filter((ids) => ids.length === fixture.reference.max_new_tokens).length, predictIds.length);
        }
      });

      test('the input cut (max_input_tokens) gives the ids PyTorch gives for the cut prompts', async () => {
        const short = await loadStudent(fixture.exported, { maxInputTokens: fixture.reference.short_input_tokens });
        try {
          const predictions = await short.predict(fixture.test.map((example) => example.input));
          assert.deepEqual(
            predictions.map((prediction) => prediction.label),
            fixture.reference.short_predict_ids.map((ids) => short.decode(ids)),
          );
        } finally {
          await short.close();
        }
      });

      test('predict: labels and rationales equal PyTorch decoded texts, whatever the batch size', async () => {
        const inputs = fixture.test.map((example) => example.input);
        for (const batchSize of [16, 1]) {
          const batched = batchSize === 16 ? student : await loadStudent(fixture.exported, { batchSize });
          try {
            // Rationales default to 64 tokens; PyTorch generated both tasks with the folder's length.
            const predictions = await batched.predict(inputs, { explain: true, maxNewTokens: fixture.reference.max_new_tokens });
            assert.deepEqual(
              predictions.map((prediction) => prediction.label),
              fixture.reference.predict_texts,
              `labels at batch size ${batchSize}`,
            );
            assert.deepEqual(
              predictions.map((prediction) => prediction.rationale),
              fixture.reference.explain_texts,
              `rationales at batch size ${batchSize}`,
            );
          } finally {
            if (batched !== student) await batched.close();
          }
        }
      });

      test('label scoring picks the label PyTorch scores highest, with its probability within 1e-4', async () => {
        const labels = folder.descriptor.labels!;
        const scored = await student.predict(
          fixture.test.map((example) => example.input),
          { scoreLabels: true },
        );
        fixture.reference.label_log_probabilities.forEach((totals, index) => {
          const best = totals.indexOf(Math.max(...totals));
          const probability = 1 / totals.reduce((sum, total) => sum + Math.exp(total - totals[best]!), 0);
          assert.equal(scored[index]!.label, labels[best], `label of test example ${index}`);
          assert.ok(
            Math.abs(scored[index]!.confidence! - probability) <= 1e-4,
            `confidence ${scored[index]!.confidence} vs PyTorch ${probability} (test example ${index})`,
          );
        });
        if (kind === 'llama') {
          // Not every answer is the same label, or picking the best would be untested.
          assert.ok(new Set(scored.map((prediction) => prediction.label)).size > 1, 'the scored labels all agree');
        }
      });
    },
  );
}

describe('the int8 causal-LM graph', { skip: tinyCausalLmMissing() }, () => {
  test('loads and decodes labels and scores', async () => {
    const fixture = await tinyCausalLm('llama');
    const student = await loadStudent(fixture.exported, { precision: 'int8' });
    try {
      assert.equal(student.precision, 'int8');
      const inputs = fixture.test.slice(0, 4).map((example) => example.input);
      const predictions = await student.predict(inputs);
      assert.equal(predictions.length, 4);
      assert.ok(predictions.every((prediction) => prediction.label.length > 0));
      const scored = await student.predict(inputs, { scoreLabels: true });
      assert.ok(scored.every((prediction) => prediction.confidence! > 1 / 3 && prediction.confidence! <= 1));
    } finally {
      await student.close();
    }
  });
});
