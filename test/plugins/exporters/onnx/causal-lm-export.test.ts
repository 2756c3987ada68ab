import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isUserError } from '../../../../core/errors/user-error.js';
import { exportStudent } from '../../../../plugins/composition-root.js';
import { tinyCausalLm, tinyCausalLmMissing } from '../../../core/inference/tiny-causal-lm-fixture.js';
import { testPython } from '../../../core/inference/tiny-student-fixture.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

describe('onnx exporter: causal-LM students', { skip: tinyCausalLmMissing() }, () => {
  test("writes the contract's transformers.js layout: one graph with its key/value cache, the descriptor, a portable tokenizer", async () => {
    const fixture = await tinyCausalLm('llama');
    assert.deepEqual(fixture.exportResult.files, [
      'config.json',
      'distill-student.json',
      'generation_config.json',
      'onnx/model.onnx',
      'onnx/model_quantized.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const json = (name: string) => JSON.parse(readFileSync(path.join(fixture.exported, name), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(json('distill-student.json'), json('../checkpoint/distill-student.json'));
    const config = json('config.json');
    assert.equal(config.model_type, 'llama');
    assert.equal(config.num_key_value_heads, 2);
    assert.equal(config.head_dim, 12);
    const tokenizerConfig = json('tokenizer_config.json');
    // transformers 5 wrote `TokenizersBackend`, which transformers.js does not know.
    assert.equal(json('../checkpoint/tokenizer_config.json').tokenizer_class, 'TokenizersBackend');
    assert.equal(tokenizerConfig.tokenizer_class, 'PreTrainedTokenizerFast');
    assert.equal(tokenizerConfig.clean_up_tokenization_spaces, false);

    for (const file of ['model.onnx', 'model_quantized.onnx']) {
      const session = await ort.InferenceSession.create(path.join(fixture.exported, 'onnx', file));
      try {
        const cache = (prefix: string) => [0, 1].flatMap((layer) => ['key', 'value'].map((part) => `${prefix}.${layer}.${part}`));
        assert.deepEqual(
          [...session.inputNames],
          ['input_ids', 'attention_mask', 'position_ids', 'num_logits_to_keep', ...cache('past_key_values')],
        );
        // transformers.js feeds it as a scalar: the graph must declare it rank 0.
        const keep = session.inputMetadata.find((input) => input.name === 'num_logits_to_keep');
        assert.ok(keep?.isTensor);
        assert.deepEqual(keep.shape, []);
        assert.deepEqual([...session.outputNames], ['logits', ...cache('present')]);
        // transformers.js sizes its empty first-step caches from these: `batch_size`, fixed heads and head size.
        const past = session.inputMetadata.find((input) => input.name === 'past_key_values.0.key');
        assert.ok(past?.isTensor);
        assert.deepEqual(past.shape, ['batch_size', 2, 'past_sequence_length', 12]);
      } finally {
        await session.release();
      }
    }
  });

  test('num_logits_to_keep: 0 computes every position, N the last N (fp32: the same logits)', async () => {
    const fixture = await tinyCausalLm('llama');
    const prompt = fixture.reference.predict_prompt_ids[0]!;
    const length = prompt.length;
    for (const file of ['model.onnx', 'model_quantized.onnx']) {
      const session = await ort.InferenceSession.create(path.join(fixture.exported, 'onnx', file));
      try {
        const run = async (keep: number) => {
          const feeds: Record<string, ort.Tensor> = {
            input_ids: new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, length]),
            attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
            position_ids: new ort.Tensor(
              'int64',
              BigInt64Array.from(prompt, (_, index) => BigInt(index)),
              [1, length],
            ),
            num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []),
          };
          for (const name of session.inputNames.filter((input) => input.startsWith('past_key_values.'))) {
            feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 12]);
          }
          return (await session.run(feeds, ['logits'])).logits!;
        };
        const all = await run(0);
        const vocabulary = all.dims[2]!;
        assert.deepEqual(all.dims, [1, length, vocabulary]);
        for (const keep of [1, 3, length + 5]) {
          const kept = await run(keep);
          const columns = Math.min(keep, length);
          assert.deepEqual(kept.dims, [1, columns, vocabulary], `${file}, keeping ${keep}`);
          // Dynamic int8 quantisation scales the output layer's input by the range of all the rows it
          // gets, so the int8 graph's kept logits are close to, not equal to, those of a full pass.
          if (file === 'model_quantized.onnx') continue;
          const tail = (all.data as Float32Array).subarray((length - columns) * vocabulary);
          const keptData = kept.data as Float32Array;
          let worst = 0;
          for (let index = 0; index < tail.length; index++) worst = Math.max(worst, Math.abs(tail[index]! - keptData[index]!));
          assert.ok(worst <= 1e-5, `${file}, keeping ${keep}: logits differ by ${worst}`);
        }
      } finally {
        await session.release();
      }
    }
  });

  // The export fails unless the graph's logits equal PyTorch's through the cache (for gemma3_text over a
  // prompt longer than its sliding window), so an export that returns has passed that check.
  const variants = [
    { kind: 'qwen2', what: 'q/k/v biases, untied output layer', config: { model_type: 'qwen2', tie_word_embeddings: false } },
    { kind: 'qwen3', what: 'per-head q/k norms', config: { model_type: 'qwen3', head_dim: 12 } },
    {
      kind: 'gemma3_text',
      what: 'a sliding-window layer, then a global one',
      config: { model_type: 'gemma3_text', sliding_window: 8, layer_types: ['sliding_attention', 'full_attention'], head_dim: 12 },
    },
  ] as const;
  for (const { kind, what, config: expected } of variants) {
    test(`a ${kind} student (${what}) exports and passes the check against PyTorch`, async () => {
      const fixture = await tinyCausalLm(kind);
      assert.ok(fixture.exportResult.files.includes('onnx/model.onnx'));
      const config = JSON.parse(readFileSync(path.join(fixture.exported, 'config.json'), 'utf8')) as Record<string, unknown>;
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(config[key], value, key);
    });
  }

  test('a gemma3_text student with bidirectional attention is a UserError: the graph attends causally', async (context) => {
    const fixture = await tinyCausalLm('gemma3_text');
    const scratch = temporaryDirectory(context, 'distill-causal-export-');
    const checkpoint = path.join(scratch, 'checkpoint');
    cpSync(fixture.checkpoint, checkpoint, { recursive: true });
    const configFile = path.join(checkpoint, 'config.json');
    const text = readFileSync(configFile, 'utf8');
    // Edited as text: JSON.stringify would write the soft cap 30.0 as 30, which the next test covers.
    assert.match(text, /"use_bidirectional_attention": false/);
    writeFileSync(configFile, text.replace('"use_bidirectional_attention": false', '"use_bidirectional_attention": true'));
    await assert.rejects(exportStudent({ checkpoint, output: path.join(scratch, 'out'), python: testPython }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /gemma3 bidirectional attention \(use_bidirectional_attention\) is not supported/);
      return true;
    });
  });

  test('a config.json field of the wrong type (an integer soft cap) is a UserError naming the file and the field', async (context) => {
    const fixture = await tinyCausalLm('gemma3_text');
    const scratch = temporaryDirectory(context, 'distill-causal-export-');
    const checkpoint = path.join(scratch, 'checkpoint');
    cpSync(fixture.checkpoint, checkpoint, { recursive: true });
    const configFile = path.join(checkpoint, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    assert.equal(config.final_logit_softcapping, 30);
    writeFileSync(configFile, JSON.stringify(config));
    await assert.rejects(exportStudent({ checkpoint, output: path.join(scratch, 'out'), python: testPython }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /config\.json is not a valid model config: .*'final_logit_softcapping'/);
      return true;
    });
  });

  test('a distill-student.json naming an unknown family is a UserError of the exporter', async (context) => {
    const fixture = await tinyCausalLm('llama');
    const scratch = temporaryDirectory(context, 'distill-causal-export-');
    const checkpoint = path.join(scratch, 'checkpoint');
    cpSync(fixture.checkpoint, checkpoint, { recursive: true });
    const descriptor = JSON.parse(readFileSync(path.join(checkpoint, 'distill-student.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(checkpoint, 'distill-student.json'), JSON.stringify({ ...descriptor, family: 'seq2seq' }));
    await assert.rejects(exportStudent({ checkpoint, output: path.join(scratch, 'out'), python: testPython }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /names the student family 'seq2seq'/);
      assert.equal(error.problems[0]!.plugin, 'exporter/onnx');
      return true;
    });
  });

  test('a model type the exporter cannot compute (phi3) is a UserError naming the supported ones', async (context) => {
    const fixture = await tinyCausalLm('llama');
    const scratch = temporaryDirectory(context, 'distill-causal-export-');
    const checkpoint = path.join(scratch, 'checkpoint');
    cpSync(fixture.checkpoint, checkpoint, { recursive: true });
    const config = JSON.parse(readFileSync(path.join(checkpoint, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(checkpoint, 'config.json'), JSON.stringify({ ...config, model_type: 'phi3' }));
    await assert.rejects(exportStudent({ checkpoint, output: path.join(scratch, 'out'), python: testPython }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /'phi3' causal LM.*supported: t5, mt5, llama, qwen2, qwen3, gemma3_text/);
      return true;
    });
  });
});
