import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadStudent, taskPrefixes } from '../../../core/inference/load-student.js';
import { tinyStudent, tinyStudentMissing } from './tiny-student-fixture.js';

/** How many inputs transformers.js decodes per model: it is slower than our decoder, one text at a time. */
const sampleSize = 6;

describe('transformers.js loads the exported folder offline and generates what PyTorch generates', { skip: tinyStudentMissing() }, () => {
  for (const kind of ['random', 'trained'] as const) {
    test(`${kind} tiny T5, dtype fp32`, async () => {
      const fixture = await tinyStudent(kind);
      const { env, AutoTokenizer, AutoModelForSeq2SeqLM } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = '/';
      const tokenizer = await AutoTokenizer.from_pretrained(fixture.exported);
      const model = await AutoModelForSeq2SeqLM.from_pretrained(fixture.exported, { dtype: 'fp32' });
      try {
        for (let index = 0; index < sampleSize; index++) {
          for (const [task, expected] of [
            ['predict', fixture.reference.predict_ids[index]!],
            ['explain', fixture.reference.explain_ids[index]!],
          ] as const) {
            const inputs = tokenizer(taskPrefixes[task] + fixture.test[index]!.input);
            const output = (await model.generate({
              ...inputs,
              max_new_tokens: fixture.reference.max_new_tokens,
              do_sample: false,
              num_beams: 1,
            })) as { tolist(): bigint[][] };
            // transformers.js returns the decoder start token first; PyTorch's reference drops it.
            const ids = output.tolist()[0]!.map(Number).slice(1);
            assert.deepEqual(ids, expected, `${task} ids of test example ${index}`);
            const text = tokenizer.decode(ids, { skip_special_tokens: true }).trim();
            const pytorchText = (task === 'predict' ? fixture.reference.predict_texts : fixture.reference.explain_texts)[index]!.trim();
            assert.equal(text, pytorchText, `${task} text of test example ${index}`);
          }
        }
      } finally {
        await model.dispose();
      }
    });
  }

  test('the int8 graphs load as transformers.js dtype q8 and decode as our int8 decoder does', async () => {
    const fixture = await tinyStudent('trained');
    const { env, AutoTokenizer, AutoModelForSeq2SeqLM } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = '/';
    const tokenizer = await AutoTokenizer.from_pretrained(fixture.exported);
    const model = await AutoModelForSeq2SeqLM.from_pretrained(fixture.exported, { dtype: 'q8' });
    // One text per batch, as transformers.js runs here: dynamic int8 quantisation scales the
    // activations per tensor, so int8 results (unlike fp32) depend on what else is in the batch.
    const student = await loadStudent(fixture.exported, {
      precision: 'int8',
      maxNewTokens: fixture.reference.max_new_tokens,
      batchSize: 1,
    });
    try {
      const texts = fixture.test
        .slice(0, 3)
        .flatMap((example) => [taskPrefixes.predict + example.input, taskPrefixes.explain + example.input]);
      const ours = await student.generateIds(texts);
      for (const [index, text] of texts.entries()) {
        const output = (await model.generate({
          ...tokenizer(text),
          max_new_tokens: fixture.reference.max_new_tokens,
          do_sample: false,
          num_beams: 1,
        })) as {
          tolist(): bigint[][];
        };
        assert.deepEqual(output.tolist()[0]!.map(Number).slice(1), ours[index], `int8 ids of ${JSON.stringify(text.slice(0, 40))}`);
      }
    } finally {
      await model.dispose();
      await student.close();
    }
  });
});
