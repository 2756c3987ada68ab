import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWorkerFixture } from './worker-fixture.js';

interface FusedKernelResults {
  model: {
    replaced: { gelu: number; dropout: number; attention: number; feed_forward: number; sparse_embeddings: number };
    fused_gelu_modules: number;
    fused_dropout_modules: number;
    plain_dropout_modules: number;
    logit_size: number;
    logit_difference: number;
    gradient_size: number;
    gradient_difference: number;
    same_state: boolean;
    plain_attention: string;
    fused_attention: boolean;
    reloaded_attention: string;
  };
  feed_forward: Record<
    'gated' | 'plain',
    { replaced: number; same_under_autocast: boolean; same_in_fp32: boolean; wrapped_replaced: number }
  >;
  embedding_gradients: Record<
    'tied' | 'untied',
    {
      tied: boolean;
      switched: [number, number];
      sparse_before_densifying: [boolean, boolean];
      gradient_size: number;
      gradient_difference: number;
      packed_gradient_size: number;
      packed_gradient_difference: number;
    }
  >;
  dropout: {
    dropped: number;
    dropped_by_share: number[];
    neighbours_dropped: number;
    kept_min: number;
    kept_max: number;
    mean: number;
    gradient_equals_output: boolean;
    same_seed_same_mask: boolean;
    other_seed_other_mask: boolean;
    evaluation_is_identity: boolean;
    bf16_dtype_kept: string;
    near_one_all_dropped: boolean;
  };
  attention_dropout: {
    elements: number;
    dropped: number;
    kept_min: number;
    kept_max: number;
    same_seed_same_mask: boolean;
    evaluation_keeps_all: boolean;
  };
}

/** The fixture's measurements (`fixtures/fused-kernels.py`), run once for both tests. */
function measure(): FusedKernelResults {
  return runWorkerFixture('fused-kernels.py', { oneThread: true }) as FusedKernelResults;
}

const results = measure();

test("`fused_kernels` gives a T5 the logits and gradient of transformers' own modules and attention and leaves its weights as they were", () => {
  const { model } = results;
  // A 2+2-layer gated-gelu T5: one GELU per feed-forward block, every nn.Dropout replaced, and its six
  // attention modules (two in the encoder, a self- and a cross-attention in each decoder layer) fused on a CPU;
  // its four feed-forward blocks, and the three embedding modules over its one table (shared, encoder, decoder).
  assert.deepEqual(model.replaced, {
    gelu: 4,
    dropout: model.plain_dropout_modules,
    attention: 6,
    feed_forward: 4,
    sparse_embeddings: 3,
  });
  assert.equal(model.plain_attention, 'sdpa');
  assert.ok(model.fused_attention);
  assert.equal(model.fused_gelu_modules, 4);
  assert.equal(model.fused_dropout_modules, model.plain_dropout_modules);
  assert.ok(model.plain_dropout_modules > 0);
  // Float rounding only (one kernel against seven operations), in evaluation mode where dropout is off.
  assert.ok(model.logit_difference <= 1e-5 * model.logit_size, `logits differ by ${model.logit_difference}`);
  assert.ok(model.gradient_difference <= 1e-5 * model.gradient_size, `gradients differ by ${model.gradient_difference}`);
  assert.ok(model.same_state, 'the same parameter names and values: a checkpoint or saved folder is unchanged');
  assert.equal(model.reloaded_attention, 'sdpa', 'a saved folder does not carry the fused attention: it loads with the default');
});

test('under autocast the feed-forward blocks skip the fp32 round trip and compute the same bits; a wrapped output layer keeps its block as it is', () => {
  for (const [name, block] of Object.entries(results.feed_forward)) {
    assert.equal(block.replaced, 1, name);
    // Training mode, torch's dropout drawn from one seed: output, input gradient and weight gradients bit for bit.
    assert.ok(block.same_under_autocast, `${name}: bf16 autocast`);
    assert.ok(block.same_in_fp32, `${name}: outside autocast`);
    assert.equal(block.wrapped_replaced, 0, `${name}: an output layer that is not a plain nn.Linear (LoRA)`);
  }
});

test('sparse embedding gradients give the dense gradient, tied or untied, over two passes and on packed rows; DDP keeps them dense', () => {
  const { tied, untied } = results.embedding_gradients;
  assert.ok(tied.tied);
  assert.ok(!untied.tied);
  for (const [name, case_] of Object.entries({ tied, untied })) {
    // distributed: true switches none; alone, the shared table and the encoder's and decoder's lookups.
    assert.deepEqual(case_.switched, [0, 3], name);
    // Float rounding only: the same rows added in another order.
    assert.ok(case_.gradient_difference <= 1e-6 * case_.gradient_size, `${name}: gradients differ by ${case_.gradient_difference}`);
    assert.ok(
      case_.packed_gradient_difference <= 1e-6 * case_.packed_gradient_size,
      `${name}, packed: gradients differ by ${case_.packed_gradient_difference}`,
    );
  }
  // Tied, the output layer's dense gradient takes the rows in; untied, only dense_gradients makes it dense.
  assert.deepEqual(tied.sparse_before_densifying, [false, false]);
  assert.deepEqual(untied.sparse_before_densifying, [false, true]);
});

test("the fused attention drops attention weights with the dropout's probability and keeps their expectation", () => {
  const { attention_dropout: dropout } = results;
  const exact = 6554 / 65536;
  assert.equal(dropout.elements, 1_000_000);
  assert.ok(Math.abs(dropout.dropped - exact) < 0.0015, `dropped ${dropout.dropped}, expected ${exact}`);
  // Uniform weights 1/1000 scaled by the inverse of the keep probability (float32 rounding).
  for (const kept of [dropout.kept_min, dropout.kept_max]) {
    assert.ok(Math.abs(kept - 65536 / (65536 - 6554)) < 1e-4, `kept weight × 1000 is ${kept}`);
  }
  assert.ok(dropout.same_seed_same_mask, 'a seed repeats the mask');
  assert.ok(dropout.evaluation_keeps_all, 'no dropout in evaluation mode');
});

test('the CPU dropout of `fused_kernels` drops with its probability, independently, and keeps the expectation', () => {
  const { dropout } = results;
  const probability = 0.1;
  const exact = 6554 / 65536; // 0.1 rounded to a multiple of 2^-16
  // A million elements: the standard deviation of the dropped share is 0.0003; 5 of them.
  assert.ok(Math.abs(dropout.dropped - exact) < 0.0015, `dropped ${dropout.dropped}, expected ${exact}`);
  // Per 16-bit share of a word (a share without its full range shows here), 250,000 elements each.
  for (const [offset, share] of dropout.dropped_by_share.entries()) {
    assert.ok(Math.abs(share - exact) < 0.003, `share ${offset} of each word dropped ${share}`);
  }
  assert.ok(Math.abs(dropout.neighbours_dropped - probability * probability) < 0.001, `neighbours ${dropout.neighbours_dropped}`);
  // Kept elements scaled by the inverse of the exact keep probability: the mean stays 1.
  assert.equal(dropout.kept_min, dropout.kept_max);
  assert.ok(Math.abs(dropout.kept_min - 65536 / (65536 - 6554)) < 1e-6, `kept value ${dropout.kept_min}`);
  assert.ok(Math.abs(dropout.mean - 1) < 0.002, `mean ${dropout.mean}`);
  assert.ok(dropout.gradient_equals_output, 'the gradient is the mask times the scale, as for nn.Dropout');
  assert.ok(dropout.same_seed_same_mask, 'a seed repeats the mask (a resumed run repeats its draws)');
  assert.ok(dropout.other_seed_other_mask);
  assert.ok(dropout.evaluation_is_identity);
  assert.equal(dropout.bf16_dtype_kept, 'torch.bfloat16');
  assert.ok(dropout.near_one_all_dropped, 'a probability that rounds to 1 drops everything instead of dividing by zero');
});
