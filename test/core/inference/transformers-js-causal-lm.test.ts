import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { promptText } from '../../../core/inference/decoder-prompt.js';
import { readStudentFolder, type CausalLmStudentFolder } from '../../../core/inference/student-folder.js';
import { tinyCausalLm, tinyCausalLmMissing } from './tiny-causal-lm-fixture.js';

/** How many prompts transformers.js generates for per model: it runs one text at a time here. */
const sampleSize = 4;

describe(
  'transformers.js loads an exported causal-LM folder offline and generates what PyTorch generates',
  { skip: tinyCausalLmMissing() },
  () => {
    for (const kind of ['llama', 'qwen2', 'qwen3', 'gemma3_text'] as const) {
      test(`pipeline('text-generation') on the tiny ${kind}, dtype fp32`, async () => {
        const fixture = await tinyCausalLm(kind);
        const folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
        const { env, pipeline } = await import('@huggingface/transformers');
        env.allowRemoteModels = false;
        env.allowLocalModels = true;
        env.localModelPath = '/';
        const generator = await pipeline('text-generation', fixture.exported, { dtype: 'fp32' });
        try {
          for (let index = 0; index < sampleSize; index++) {
            const prompt = promptText(folder.descriptor, 'predict', fixture.test[index]!.input);
            // The contract encodes prompts with the tokenizer's special tokens (here the start token).
            const ids = generator.tokenizer(prompt, { add_special_tokens: true }).input_ids as { tolist(): bigint[][] };
            assert.deepEqual(
              ids.tolist()[0]!.map(Number),
              fixture.reference.predict_prompt_ids[index],
              `prompt ids of test example ${index}`,
            );
            const output = (await generator(prompt, {
              max_new_tokens: fixture.reference.max_new_tokens,
              do_sample: false,
              num_beams: 1,
              add_special_tokens: true,
              return_full_text: false,
            })) as { generated_text: string }[];
            assert.equal(output[0]!.generated_text.trim(), fixture.reference.predict_texts[index], `text of test example ${index}`);
          }
        } finally {
          await generator.dispose();
        }
      });
    }

    test('the int8 graph loads as dtype q8 and generates', async () => {
      const fixture = await tinyCausalLm('llama');
      const { env, pipeline } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = '/';
      const generator = await pipeline('text-generation', fixture.exported, { dtype: 'q8' });
      try {
        const folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
        const output = (await generator(promptText(folder.descriptor, 'predict', fixture.test[0]!.input), {
          max_new_tokens: 4,
          do_sample: false,
          add_special_tokens: true,
          return_full_text: false,
        })) as { generated_text: string }[];
        assert.equal(output.length, 1);
        assert.equal(typeof output[0]!.generated_text, 'string');
      } finally {
        await generator.dispose();
      }
    });
  },
);
