"""The module written to ONNX for a causal-LM (decoder-only) student: one call over new tokens and a cache.

It shares the checkpoint's own submodules (embeddings, RMS norms, q/k/v/o projections with qwen2's
biases, qwen3's per-head q/k norms, SwiGLU MLPs, the tied or untied output layer) and computes the
llama/qwen2/qwen3 forward pass itself, so that the graph's inputs, outputs and dynamic dimensions are
exactly the ones docs/decoder-students.md names (transformers.js' layout), whatever the transformers
version and whatever its cache objects do.

    input_ids [batch, sequence], attention_mask [batch, past + sequence], position_ids [batch, sequence],
    num_logits_to_keep [] (int64 scalar), past_key_values.{i}.key|value [batch, kv_heads, past, head_dim]
    -> logits [batch, kept, vocabulary], present.{i}.key|value [batch, kv_heads, past + sequence, head_dim]

`num_logits_to_keep` is transformers.js' input of that name: 0 computes the logits of every new position,
N > 0 only those of the last N (all of them when N is the sequence length or more). Generation needs
only the last prompt token's logits, and the output layer over a 49k vocabulary is a fifth of a
SmolLM2's weights, so the prompt pass computes it for one position instead of every prompt token.

The first call gets zero-length pasts; the graph concatenates, so no branch and no `use_cache_branch`.
Rotary embeddings use the checkpoint's own inverse frequencies and attention scaling (so rope theta and
static scalings such as llama3's or linear are exactly the model's); scalings that change with the
sequence length are refused by `check_supported`.

Imported only once torch is needed (it loads torch at import).
"""

import torch
from torch import nn

NEGATIVE = torch.finfo(torch.float32).min

# model_type -> whether the family's attention normalises queries and keys per head (qwen3).
SUPPORTED_MODEL_TYPES = {"llama": False, "qwen2": False, "qwen3": True}
# Rope types whose frequencies do not depend on the sequence length, so one table serves every step.
STATIC_ROPE_TYPES = ("default", "linear", "llama3", "yarn")


def rope_type(config):
    """The config's rope type, from `rope_parameters` (transformers 5) or `rope_scaling` (older files)."""
    parameters = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    return parameters.get("rope_type", parameters.get("type", "default"))


def check_supported(config):
    """Why this graph cannot compute the config's model (a sentence), or None when it can."""
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        return f"model type {config.model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
    if rope_type(config) not in STATIC_ROPE_TYPES:
        return f"rope type {rope_type(config)!r} is not supported (supported: {', '.join(STATIC_ROPE_TYPES)})"
    if getattr(config, "use_sliding_window", False) and "sliding_attention" in (getattr(config, "layer_types", None) or []):
        return "sliding-window attention is not supported"
    return None


def repeat_heads(states, groups):
    """[batch, kv_heads, length, head_dim] -> [batch, kv_heads * groups, length, head_dim], each kv head
    repeated for the query heads that share it (grouped-query attention), as transformers' repeat_kv."""
    if groups == 1:
        return states
    batch, heads, length, size = states.shape
    return states[:, :, None, :, :].expand(batch, heads, groups, length, size).reshape(batch, heads * groups, length, size)


def rotate_half(states):
    """The rotation of rotary embeddings: (x1, x2) -> (-x2, x1) over the two halves of the head."""
    half = states.shape[-1] // 2
    return torch.cat((-states[..., half:], states[..., :half]), dim=-1)


class DecoderStep(nn.Module):
    """One call of a llama / qwen2 / qwen3 causal LM over new tokens, with the past keys and values."""

    def __init__(self, model):
        super().__init__()
        config = model.config
        self.base = model.model
        self.lm_head = model.lm_head
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.query_norms = SUPPORTED_MODEL_TYPES[config.model_type]
        rotary = self.base.rotary_emb
        self.register_buffer("inv_freq", rotary.inv_freq.detach().clone().float(), persistent=False)
        self.attention_scaling = float(rotary.attention_scaling)

    def forward(self, input_ids, attention_mask, position_ids, num_logits_to_keep, *past):
        hidden = self.base.embed_tokens(input_ids)
        new_length = input_ids.shape[1]
        total_length = attention_mask.shape[1]
        # Rotary angles of each new token at its own position (left padding shifts them per row).
        angles = position_ids[..., None].float() * self.inv_freq
        angles = torch.cat((angles, angles), dim=-1)
        cos = (angles.cos() * self.attention_scaling)[:, None, :, :]
        sin = (angles.sin() * self.attention_scaling)[:, None, :, :]
        # Query i (absolute index total - new + i) sees key j when j <= its index and j is not padding.
        # One additive term: adding a causal and a padding term would reach -inf where both apply,
        # and a row of -inf (a padding query) would turn into NaN keys for later steps.
        query_index = torch.arange(new_length, device=input_ids.device) + (total_length - new_length)
        key_index = torch.arange(total_length, device=input_ids.device)
        causal = key_index[None, :] <= query_index[:, None]
        allowed = causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)
        bias = (~allowed).to(hidden.dtype) * NEGATIVE
        presents = []
        for index, layer in enumerate(self.base.layers):
            normed = layer.input_layernorm(hidden)
            attended, key, value = self.attention(layer.self_attn, normed, cos, sin, bias, past[2 * index], past[2 * index + 1])
            hidden = hidden + attended
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
            presents += [key, value]
        return (self.lm_head(self.base.norm(kept_positions(hidden, num_logits_to_keep))), *presents)

    def heads_of(self, states, heads):
        """[batch, length, heads * head_dim] -> [batch, length, heads, head_dim]."""
        batch, length, _ = states.shape
        return states.view(batch, length, heads, self.head_dim)

    def attention(self, attention, normed, cos, sin, bias, past_key, past_value):
        """Self-attention of the new tokens over past and new keys; returns its output and the grown cache."""
        query = self.heads_of(attention.q_proj(normed), self.heads)
        key = self.heads_of(attention.k_proj(normed), self.kv_heads)
        value = self.heads_of(attention.v_proj(normed), self.kv_heads).transpose(1, 2)
        if self.query_norms:
            query = attention.q_norm(query)
            key = attention.k_norm(key)
        query = query.transpose(1, 2)
        key = key.transpose(1, 2)
        query = query * cos + rotate_half(query) * sin
        key = torch.cat([past_key, key * cos + rotate_half(key) * sin], dim=2)
        value = torch.cat([past_value, value], dim=2)
        groups = self.heads // self.kv_heads
        scores = torch.matmul(query, repeat_heads(key, groups).transpose(2, 3)) * (self.head_dim**-0.5) + bias
        weights = torch.softmax(scores.float(), dim=-1).type_as(scores)
        attended = torch.matmul(weights, repeat_heads(value, groups))
        batch, _, length, _ = attended.shape
        attended = attended.transpose(1, 2).reshape(batch, length, self.heads * self.head_dim)
        return attention.o_proj(attended), key, value


def kept_positions(hidden, num_logits_to_keep):
    """The last `num_logits_to_keep` positions of `hidden` [batch, sequence, size], or all of them for 0.

    Written with tensor arithmetic (no Python `if`), so that the traced graph keeps the choice dynamic."""
    length = hidden.shape[1]
    start = ((length - num_logits_to_keep) * (num_logits_to_keep > 0)).clamp(min=0)
    return hidden.index_select(1, torch.arange(length, device=hidden.device)[start:])


def build_decoder(model):
    """The decoder-step module to export, in eval mode."""
    return DecoderStep(model).eval()
