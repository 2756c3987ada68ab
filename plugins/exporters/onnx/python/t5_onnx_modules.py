"""The modules written to ONNX: a T5 checkpoint's encoder and one decoder step with both caches.

They share the checkpoint's own submodules (layer norms, projections, feed-forward blocks) and
compute T5's forward pass themselves, so that the graphs' inputs, outputs and dynamic dimensions
are exactly the ones docs/onnx-layout.md names, whatever the transformers version.

Relative position biases are looked up in a table of every relative position from -max_distance
to +max_distance, written at export time with T5's own bucket function (T5 maps every distance
beyond max_distance to the last bucket, so clamping is exact). The graphs hold one Gather where
the bucket arithmetic (log, divide, floor, min, where: some twenty nodes) was, and the buckets are
PyTorch's by construction rather than recomputed in onnxruntime's float arithmetic, where a last-bit
difference in a log could move a distance into the neighbouring bucket.

Imported only once torch is needed (it loads torch at import), so that argument and folder errors
of the export program do not wait for it.
"""

import torch
from torch import nn

NEGATIVE = torch.finfo(torch.float32).min


def split_heads(states, heads, head_size):
    """[batch, length, heads * head_size] -> [batch, heads, length, head_size]."""
    batch, length, _ = states.shape
    return states.view(batch, length, heads, head_size).transpose(1, 2)


def merge_heads(states, heads, head_size):
    """[batch, heads, length, head_size] -> [batch, length, heads * head_size]."""
    batch, _, length, _ = states.shape
    return states.transpose(1, 2).reshape(batch, length, heads * head_size)


def attend(query, key, value, bias):
    """Attention with an additive bias; [batch, heads, queries, head_size] out."""
    # T5 does not scale the query-key product: the relative position bias carries the scale.
    scores = torch.matmul(query, key.transpose(2, 3)) + bias
    weights = torch.softmax(scores.float(), dim=-1).type_as(scores)
    return torch.matmul(weights, value)


def bias_table(attention, bidirectional):
    """[2 * max_distance + 1, heads]: the bias of relative position (key - query) r at row r + max_distance."""
    distance = attention.relative_attention_max_distance

    def buckets(relative):
        return attention._relative_position_bucket(
            relative,
            bidirectional=bidirectional,
            num_buckets=attention.relative_attention_num_buckets,
            max_distance=distance,
        )

    table = buckets(torch.arange(-distance, distance + 1, dtype=torch.long))
    # T5 promises that distances beyond max_distance share the last bucket; check it for this version.
    if buckets(torch.tensor([-100 * distance, 100 * distance])).tolist() != [table[0].item(), table[-1].item()]:
        raise RuntimeError("T5 relative position buckets do not saturate at max_distance; cannot tabulate them")
    return attention.relative_attention_bias(table).detach()


def position_bias(table, query_positions, key_positions):
    """[1, heads, queries, keys] bias and the relative positions, read from a bias_table."""
    distance = (table.shape[0] - 1) // 2
    relative = key_positions[None, :] - query_positions[:, None]
    index = torch.clamp(relative, -distance, distance) + distance
    return table[index].permute([2, 0, 1]).unsqueeze(0), relative


class Encoder(nn.Module):
    """input_ids, attention_mask -> last_hidden_state, as T5Stack(encoder) computes it."""

    def __init__(self, model):
        super().__init__()
        self.stack = model.encoder
        self.heads = model.config.num_heads
        self.head_size = model.config.d_kv
        self.register_buffer("bias_table", bias_table(self.stack.block[0].layer[0].SelfAttention, True))

    def forward(self, input_ids, attention_mask):
        hidden = self.stack.embed_tokens(input_ids)
        positions = torch.arange(input_ids.shape[1], dtype=torch.long, device=input_ids.device)
        bias, _ = position_bias(self.bias_table, positions, positions)
        bias = bias + (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * NEGATIVE
        for block in self.stack.block:
            layer = block.layer[0]
            attention = layer.SelfAttention
            normed = layer.layer_norm(hidden)
            query = split_heads(attention.q(normed), self.heads, self.head_size)
            key = split_heads(attention.k(normed), self.heads, self.head_size)
            value = split_heads(attention.v(normed), self.heads, self.head_size)
            hidden = hidden + attention.o(merge_heads(attend(query, key, value, bias), self.heads, self.head_size))
            hidden = block.layer[-1](hidden)
        return self.stack.final_layer_norm(hidden)


class DecoderStep(nn.Module):
    """One decoder call with both caches: new tokens and past -> logits and present.

    Self-attention: the new keys and values are appended to the past ones (empty on the first step).
    Cross-attention: keys and values are projected only for the encoder positions the past does not
    hold yet, i.e. all of them on the first step (past length 0) and none afterwards (a zero-row
    MatMul), and appended to the past. No branch and no `use_cache_branch` input: one graph serves
    every step, and a caller that feeds the first step's present back gets the cross projections
    computed once per text instead of once per token (measured: 8% less decoder time for a batch-1
    label, 18% at batch 32, 21% for rationales, whose every step re-projected the whole input before).
    """

    def __init__(self, model):
        super().__init__()
        self.stack = model.decoder
        self.lm_head = model.lm_head
        self.heads = model.config.num_heads
        self.head_size = model.config.d_kv
        self.output_scale = model.config.d_model**-0.5 if getattr(model.config, "scale_decoder_outputs", False) else None
        self.register_buffer("bias_table", bias_table(self.stack.block[0].layer[0].SelfAttention, False))

    def forward(self, input_ids, encoder_attention_mask, encoder_hidden_states, *past):
        hidden = self.stack.embed_tokens(input_ids)
        new_length = input_ids.shape[1]
        past_length = past[0].shape[2]
        query_positions = torch.arange(new_length, dtype=torch.long, device=input_ids.device) + past_length
        key_positions = torch.arange(past_length + new_length, dtype=torch.long, device=input_ids.device)
        self_bias, relative = position_bias(self.bias_table, query_positions, key_positions)
        # Causal: a query may not see keys after its own position (relative position > 0).
        self_bias = self_bias + (relative > 0).to(hidden.dtype)[None, None, :, :] * NEGATIVE
        cross_bias = (1.0 - encoder_attention_mask[:, None, None, :].to(hidden.dtype)) * NEGATIVE
        presents = []
        for index, block in enumerate(self.stack.block):
            layer_past = past[4 * index : 4 * index + 4]
            hidden, key, value = self.self_attention(block.layer[0], hidden, layer_past[0], layer_past[1], self_bias)
            hidden, cross_key, cross_value = self.cross_attention(block.layer[1], hidden, encoder_hidden_states, layer_past[2:], cross_bias)
            presents += [key, value, cross_key, cross_value]
            hidden = block.layer[-1](hidden)
        hidden = self.stack.final_layer_norm(hidden)
        if self.output_scale is not None:
            hidden = hidden * self.output_scale
        return (self.lm_head(hidden), *presents)

    def heads_of(self, states):
        """[batch, length, heads * head_size] -> [batch, heads, length, head_size]."""
        return split_heads(states, self.heads, self.head_size)

    def self_attention(self, layer, hidden, past_key, past_value, bias):
        """The self-attention sublayer; returns the new hidden states and the grown cache."""
        attention = layer.SelfAttention
        normed = layer.layer_norm(hidden)
        query = self.heads_of(attention.q(normed))
        key = torch.cat([past_key, self.heads_of(attention.k(normed))], dim=2)
        value = torch.cat([past_value, self.heads_of(attention.v(normed))], dim=2)
        attended = merge_heads(attend(query, key, value, bias), self.heads, self.head_size)
        return hidden + attention.o(attended), key, value

    def cross_attention(self, layer, hidden, encoder_hidden_states, past, bias):
        """The cross-attention sublayer; projects only the encoder positions the cache lacks."""
        past_key, past_value = past
        cross = layer.EncDecAttention
        query = self.heads_of(cross.q(layer.layer_norm(hidden)))
        missing = encoder_hidden_states[:, past_key.shape[2] :, :]
        key = torch.cat([past_key, self.heads_of(cross.k(missing))], dim=2)
        value = torch.cat([past_value, self.heads_of(cross.v(missing))], dim=2)
        attended = merge_heads(attend(query, key, value, bias), self.heads, self.head_size)
        return hidden + cross.o(attended), key, value


def build_wrappers(model):
    """The encoder and decoder-step modules to export, in eval mode."""
    return Encoder(model).eval(), DecoderStep(model).eval()
