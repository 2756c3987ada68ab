"""The module written to ONNX for a causal-LM (decoder-only) student: one call over new tokens and a cache.

It shares the checkpoint's own submodules (embeddings, RMS norms, q/k/v/o projections with qwen2's
biases, per-head q/k norms, SwiGLU or GELU MLPs, the tied or untied output layer) and computes the
llama / qwen2 / qwen3 / gemma3_text forward pass itself, so that the graph's inputs, outputs and
dynamic dimensions are exactly the ones docs/decoder-students.md names (transformers.js' layout),
whatever the transformers version and whatever its cache objects do.

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

gemma3_text differs in what `Gemma3ForCausalLM` computes: its embedding module scales by sqrt(hidden)
and its RMS norms by (1 + weight) (both reused as they are); attention and feed-forward outputs pass
through norms of their own before the residual sum; scores are scaled by `query_pre_attn_scalar`;
sliding-window layers use the rope base of their layer type (`rope_local_base_freq`) and see only the
`sliding_window` keys up to their own; the logits are soft-capped by `final_logit_softcapping` when set.
The caches keep every position for every layer (transformers' own sliding cache drops keys no query
can see any more; the window mask ignores them here), so each layer's cache has the same layout.

Imported only once torch is needed (it loads torch at import).
"""

import torch
from torch import nn

NEGATIVE = torch.finfo(torch.float32).min

GEMMA3 = "gemma3_text"
SUPPORTED_MODEL_TYPES = ("llama", "qwen2", "qwen3", GEMMA3)
# The families whose attention normalises queries and keys per head.
QUERY_KEY_NORM_MODEL_TYPES = ("qwen3", GEMMA3)
# Rope types whose frequencies do not depend on the sequence length, so one table serves every step.
STATIC_ROPE_TYPES = ("default", "linear", "llama3", "yarn")
SLIDING = "sliding_attention"


def rope_types(config):
    """The config's rope types, from `rope_parameters` (transformers 5) or `rope_scaling` (older files): one
    per layer type where the parameters are given per layer type (gemma3), else one."""
    parameters = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    layer_types = set(getattr(config, "layer_types", None) or [])
    tables = [parameters[name] or {} for name in sorted(layer_types) if name in parameters] or [parameters]
    return [table.get("rope_type", table.get("type", "default")) for table in tables]


def check_supported(config):
    """Why this graph cannot compute the config's model (a sentence), or None when it can."""
    if config.model_type not in SUPPORTED_MODEL_TYPES:
        return f"model type {config.model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})"
    unsupported = [name for name in rope_types(config) if name not in STATIC_ROPE_TYPES]
    if unsupported:
        return f"rope type {unsupported[0]!r} is not supported (supported: {', '.join(STATIC_ROPE_TYPES)})"
    if config.model_type == GEMMA3:
        if getattr(config, "use_bidirectional_attention", False):
            return "gemma3 bidirectional attention (use_bidirectional_attention) is not supported: a causal LM attends causally"
        if SLIDING in config.layer_types and not config.sliding_window:
            return "gemma3 sliding-window layers without a sliding_window size are not supported"
    elif getattr(config, "use_sliding_window", False) and SLIDING in (getattr(config, "layer_types", None) or []):
        return "sliding-window attention is not supported for llama, qwen2 or qwen3 (gemma3_text's is)"
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


def layer_types(config):
    """Each layer's attention type: gemma3's own list, or full attention for every layer of the others."""
    if config.model_type == GEMMA3:
        return list(config.layer_types[: config.num_hidden_layers])
    return ["full_attention"] * config.num_hidden_layers


def rope_tables(rotary, types):
    """{layer type: (inverse frequencies, attention scaling)} from the checkpoint's rotary module: one
    table per layer type where it keeps several (gemma3's local and global bases), else the one."""
    tables = {}
    for name in types:
        prefix = f"{name}_" if hasattr(rotary, f"{name}_inv_freq") else ""
        tables[name] = (getattr(rotary, f"{prefix}inv_freq"), float(getattr(rotary, f"{prefix}attention_scaling")))
    return tables


class DecoderStep(nn.Module):
    """One call of a llama / qwen2 / qwen3 / gemma3_text causal LM over new tokens, with the past keys and values."""

    def __init__(self, model):
        super().__init__()
        config = model.config
        self.base = model.model
        self.lm_head = model.lm_head
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.query_norms = config.model_type in QUERY_KEY_NORM_MODEL_TYPES
        self.gemma = config.model_type == GEMMA3
        self.score_scale = (config.query_pre_attn_scalar if self.gemma else self.head_dim) ** -0.5
        # transformers' Gemma3ForCausalLM applies the final soft cap; its attention never receives
        # `attn_logit_softcapping` (not passed to the attention function), so neither does this graph.
        self.final_softcap = getattr(config, "final_logit_softcapping", None) if self.gemma else None
        self.layer_types = layer_types(config)
        self.windows = {name: config.sliding_window if name == SLIDING else None for name in self.layer_types}
        self.scalings = {}
        for name, (inv_freq, scaling) in rope_tables(self.base.rotary_emb, sorted(set(self.layer_types))).items():
            self.register_buffer(f"inv_freq_{name}", inv_freq.detach().clone().float(), persistent=False)
            self.scalings[name] = scaling

    def forward(self, input_ids, attention_mask, position_ids, num_logits_to_keep, *past):
        hidden = self.base.embed_tokens(input_ids)
        new_length = input_ids.shape[1]
        total_length = attention_mask.shape[1]
        rotations = {name: self.rotation(name, position_ids) for name in self.scalings}
        # Query i (absolute index total - new + i) sees key j when j <= its index and j is not padding,
        # and in a sliding-window layer when j > its index - window (transformers' sliding mask, on the
        # same absolute indices). One additive term per window: adding a causal and a padding term would
        # reach -inf where both apply, and a row of -inf (a padding query) would turn into NaN keys for
        # later steps.
        query_index = torch.arange(new_length, device=input_ids.device) + (total_length - new_length)
        key_index = torch.arange(total_length, device=input_ids.device)
        causal = key_index[None, :] <= query_index[:, None]
        real = attention_mask[:, None, None, :] > 0
        biases = {}
        for window in set(self.windows.values()):
            seen = causal if window is None else causal & (key_index[None, :] > query_index[:, None] - window)
            biases[window] = (~(seen[None, None, :, :] & real)).to(hidden.dtype) * NEGATIVE
        presents = []
        for index, layer in enumerate(self.base.layers):
            kind = self.layer_types[index]
            cos, sin = rotations[kind]
            bias = biases[self.windows[kind]]
            normed = layer.input_layernorm(hidden)
            attended, key, value = self.attention(layer.self_attn, normed, cos, sin, bias, past[2 * index], past[2 * index + 1])
            if self.gemma:
                # Gemma's sandwich norms: each block's output is normalised before the residual sum.
                hidden = hidden + layer.post_attention_layernorm(attended)
                hidden = hidden + layer.post_feedforward_layernorm(layer.mlp(layer.pre_feedforward_layernorm(hidden)))
            else:
                hidden = hidden + attended
                hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
            presents += [key, value]
        logits = self.lm_head(self.base.norm(kept_positions(hidden, num_logits_to_keep)))
        if self.final_softcap is not None:
            logits = torch.tanh(logits / self.final_softcap) * self.final_softcap
        return (logits, *presents)

    def rotation(self, layer_type, position_ids):
        """The rotary cos and sin [batch, 1, sequence, head_dim] of each new token at its own position
        (left padding shifts them per row), with the layer type's frequencies."""
        angles = position_ids[..., None].float() * getattr(self, f"inv_freq_{layer_type}")
        angles = torch.cat((angles, angles), dim=-1)
        scaling = self.scalings[layer_type]
        return (angles.cos() * scaling)[:, None, :, :], (angles.sin() * scaling)[:, None, :, :]

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
        scores = torch.matmul(query, repeat_heads(key, groups).transpose(2, 3)) * self.score_scale + bias
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


def smallest_window(config):
    """The smallest attention window of the config's layers, or None when every layer attends fully."""
    windows = [config.sliding_window for name in layer_types(config) if name == SLIDING]
    return min(windows) if windows else None


def build_decoder(model):
    """The decoder-step module to export, in eval mode."""
    return DecoderStep(model).eval()
