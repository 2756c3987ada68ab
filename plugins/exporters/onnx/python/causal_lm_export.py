"""The causal-LM half of the ONNX export: writes onnx/model.onnx for a llama / qwen2 / qwen3 / gemma3_text student and
checks it against PyTorch through the cache, as docs/decoder-students.md lays the folder out.

Driven by export_onnx.py, which checks the folder, copies the metadata and quantises; this file holds
what differs from the T5 export: the graph's names and dynamic axes, the config keys transformers.js
reads for a decoder-only model, and a check that walks a left-padded batch through a prompt pass and
single-token steps.
"""

import json
import os

from logit_check import checked_difference

# The batch dimension must be named exactly this: transformers.js sizes its empty first-step caches by
# resolving `batch_size` and setting every other symbolic dimension (the past length) to 0.
BATCH = "batch_size"
PAST = "past_sequence_length"
TOTAL = "total_sequence_length"
SEQUENCE = "sequence_length"
KEPT = "kept_sequence_length"
# The check's prompt runs past a sliding window up to this size, so that the window's mask is compared
# with PyTorch's (larger windows use the same graph code; their check stays short).
CHECKED_WINDOW = 64


def cache_names(layers):
    """The past inputs and present outputs, in graph order: per layer key then value."""
    past = [f"past_key_values.{index}.{part}" for index in range(layers) for part in ("key", "value")]
    return past, [name.replace("past_key_values.", "present.") for name in past]


def head_dim(config):
    """The size of one attention head, as the model computes it."""
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def export_decoder_graph(model, output_directory, opset, emit):
    """Writes onnx/model.onnx; returns its relative path."""
    import torch
    from decoder_onnx_modules import build_decoder

    config = model.config
    step = build_decoder(model)
    onnx_directory = os.path.join(output_directory, "onnx")
    os.makedirs(onnx_directory, exist_ok=True)
    # Traced with a non-empty past and several new tokens, so that neither length is folded into a constant.
    batch, past_length, new_length = 2, 3, 4
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, config.vocab_size, (batch, new_length), generator=generator)
    attention_mask = torch.ones(batch, past_length + new_length, dtype=torch.long)
    attention_mask[1, :2] = 0
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)[:, past_length:]
    # Traced keeping 2 of the 4 new positions, so that the kept count is not folded into a constant either.
    num_logits_to_keep = torch.tensor(2, dtype=torch.long)
    past = [
        torch.randn(batch, config.num_key_value_heads, past_length, head_dim(config), generator=generator)
        for _ in range(2 * config.num_hidden_layers)
    ]
    past_names, present_names = cache_names(config.num_hidden_layers)
    dynamic_axes = {
        "input_ids": {0: BATCH, 1: SEQUENCE},
        "attention_mask": {0: BATCH, 1: TOTAL},
        "position_ids": {0: BATCH, 1: SEQUENCE},
        "logits": {0: BATCH, 1: KEPT},
        **{name: {0: BATCH, 2: PAST} for name in past_names},
        **{name: {0: BATCH, 2: TOTAL} for name in present_names},
    }
    emit("progress", message="exporting the decoder with its key/value cache")
    path = os.path.join(onnx_directory, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(
            step,
            (input_ids, attention_mask, position_ids, num_logits_to_keep, *past),
            path,
            input_names=["input_ids", "attention_mask", "position_ids", "num_logits_to_keep", *past_names],
            output_names=["logits", *present_names],
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True,
        )
    return ["onnx/model.onnx"]


def check_decoder_against_pytorch(model, output_directory, steps=3):
    """Runs onnx/model.onnx on a left-padded batch, a prompt pass with zero-length caches and then `steps`
    single-token calls fed the presents back, and compares every real position's logits with PyTorch's
    forward over the whole sequence. The prompt pass runs once keeping every position's logits
    (`num_logits_to_keep` 0) and once keeping the last two, which must be the same two. A model with a
    sliding window of at most CHECKED_WINDOW gets a prompt longer than the window. Returns the largest
    absolute difference; raises on a mismatch."""
    import numpy
    import onnxruntime
    import torch
    from decoder_onnx_modules import smallest_window

    config = model.config
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(os.path.join(output_directory, "onnx", "model.onnx"), options)
    output_names = [output.name for output in session.get_outputs()]
    generator = torch.Generator().manual_seed(0)
    window = smallest_window(model.config)
    prompt_length, batch = max(6, window + 2) if window and window <= CHECKED_WINDOW else 6, 3
    ids = torch.randint(0, config.vocab_size, (batch, prompt_length + steps), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, :2] = 0  # left padding, as generation pads
    mask[2, : prompt_length - 1] = 0  # a one-token prompt
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.numpy()
    past_names, present_names = cache_names(config.num_hidden_layers)
    empty = numpy.zeros((batch, config.num_key_value_heads, 0, head_dim(config)), dtype=numpy.float32)
    feeds = dict.fromkeys(past_names, empty)

    def run(start, end, keep):
        feeds.update(
            {
                "input_ids": ids[:, start:end].numpy(),
                "attention_mask": mask[:, :end].numpy(),
                "position_ids": positions[:, start:end].numpy(),
                "num_logits_to_keep": numpy.array(keep, dtype=numpy.int64),
            }
        )
        return dict(zip(output_names, session.run(None, feeds), strict=True))

    def difference(logits, start, end):
        # Padding positions compute nothing anyone reads; only real tokens are compared.
        real = mask[:, start:end].numpy().astype(bool)
        return float(numpy.abs(logits - expected[:, start:end, :])[real].max())

    last_two = run(0, prompt_length, 2)["logits"]
    if last_two.shape[1] != 2:
        raise RuntimeError(f"exported decoder kept {last_two.shape[1]} positions' logits where num_logits_to_keep asked for 2")
    worst, start = difference(last_two, prompt_length - 2, prompt_length), 0
    for end in [prompt_length, *range(prompt_length + 1, prompt_length + steps + 1)]:
        outputs = run(start, end, 0 if start == 0 else 1)
        worst = max(worst, difference(outputs["logits"], start, end))
        for past_name, present_name in zip(past_names, present_names, strict=True):
            feeds[past_name] = outputs[present_name]
        start = end
    return checked_difference(worst, expected)


def complete_config(model, output_directory):
    """Writes the keys transformers.js reads for a decoder-only model into the exported config.json where
    the checkpoint's lacks them: it sizes its first-step caches from `num_key_value_heads` and `head_dim`."""
    path = os.path.join(output_directory, "config.json")
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    config.setdefault("model_type", model.config.model_type)
    config.setdefault("num_key_value_heads", model.config.num_key_value_heads)
    config.setdefault("head_dim", head_dim(model.config))
    config.setdefault("use_cache", True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
