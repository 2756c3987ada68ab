import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InferenceSession } from 'onnxruntime-node';
import { decoderCaches } from '../../../core/inference/greedy-decoder.js';

/** Only the names: what decoderCaches reads of a session. */
function session(inputNames: string[], outputNames: string[]): InferenceSession {
  return { inputNames, outputNames } as unknown as InferenceSession;
}

function cacheNames(prefix: string, kinds: readonly string[]): string[] {
  return [0, 1].flatMap((layer) => kinds.flatMap((kind) => ['key', 'value'].map((part) => `${prefix}.${layer}.${kind}.${part}`)));
}

describe('decoderCaches reads how to feed a decoder graph from the names it declares', () => {
  const inputs = ['input_ids', 'encoder_attention_mask', 'encoder_hidden_states'];

  test('self- and cross-attention caches: the cross one is fetched on the first step only', () => {
    const caches = decoderCaches(
      session(
        [...inputs, ...cacheNames('past_key_values', ['decoder', 'encoder'])],
        ['logits', ...cacheNames('present', ['decoder', 'encoder'])],
      ),
    );
    assert.deepEqual(caches.selfAttention, cacheNames('past_key_values', ['decoder']));
    assert.deepEqual(caches.crossAttention, cacheNames('past_key_values', ['encoder']));
    assert.deepEqual(caches.firstStepOutputs, ['logits', ...cacheNames('present', ['decoder', 'encoder'])]);
    assert.deepEqual(caches.laterStepOutputs, ['logits', ...cacheNames('present', ['decoder'])]);
  });

  test('a folder exported before the cross-attention cache (self-attention only) still decodes', () => {
    const caches = decoderCaches(
      session([...inputs, ...cacheNames('past_key_values', ['decoder'])], ['logits', ...cacheNames('present', ['decoder'])]),
    );
    assert.deepEqual(caches.crossAttention, []);
    assert.deepEqual(caches.laterStepOutputs, caches.firstStepOutputs);
  });

  test('a cache input without its present output is refused, naming it', () => {
    const declared = cacheNames('present', ['decoder']).slice(1);
    assert.throws(
      () => decoderCaches(session([...inputs, ...cacheNames('past_key_values', ['decoder'])], ['logits', ...declared])),
      /lacks the outputs present\.0\.decoder\.key$/,
    );
  });
});
