"""Sequence packing for a T5 student: several examples in one row, none attending to another.

A micro-batch's (input, target) pairs are packed two to a row on average, balanced so that the rows
come out about equally long (see :func:`pack`). Three block-diagonal masks keep
the examples apart: encoder tokens see the tokens of their own input, decoder tokens the earlier
tokens of their own target (causal) and, through cross-attention, their own input only. T5 has no
absolute positions: its relative position bias depends on the distance between two tokens, which
packing does not change inside an example, so a packed example computes what it computes alone (up
to float rounding; tested). Each target's decoder input starts with the decoder start token, as
``prepare_decoder_input_ids_from_labels`` makes it for an unpacked row.

The output layer runs on real target tokens only, as :mod:`decoder_loss` does for causal LMs: the
padding left in packed rows costs no vocabulary projection or softmax.
"""

import math

import torch
import torch.nn.functional as functional

from .data import pad
from .multitask_loss import mean_over

# Pairs per packed row, on average. Measured on e-SNLI batches of 16 and 32 (bucketed by length),
# padding adds 22-25% to the input tokens and 58-65% to the rationale tokens unpacked, 4-6% and 10%
# with 2 a row, 1-3% with 4, at twice the row width (and every masked score is still computed).
EXAMPLES_PER_ROW = 2
# Segment id of padding positions.
PADDING = -1


class PackedTargetLogits(torch.nn.Module):
    """A T5 whose forward takes packed rows and their masks and gives the logits of the real target tokens, [tokens, vocabulary].

    DDP wraps this module, so that gradients are all-reduced through its forward.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, encoder_mask, decoder_input_ids, decoder_mask, cross_mask, predicting):
        t5 = self.model
        # The encoder's and decoder's tokens in one lookup: one embedding gradient a pass, not two
        # (with fused_kernels' sparse embedding gradients, one fewer copy of the table; see there).
        sources = input_ids.numel()
        embedded = t5.get_input_embeddings()(torch.cat([input_ids.reshape(-1), decoder_input_ids.reshape(-1)]))
        encoded = t5.encoder(inputs_embeds=embedded[:sources].view(*input_ids.shape, -1), attention_mask=encoder_mask).last_hidden_state
        hidden = t5.decoder(
            inputs_embeds=embedded[sources:].view(*decoder_input_ids.shape, -1),
            attention_mask=decoder_mask,
            encoder_hidden_states=encoded,
            encoder_attention_mask=cross_mask,
            use_cache=False,
        ).last_hidden_state[predicting]
        # What T5ForConditionalGeneration.forward does before its output layer (tied embeddings).
        if getattr(t5.config, "scale_decoder_outputs", t5.config.tie_word_embeddings):
            hidden = hidden * (t5.model_dim**-0.5)
        return t5.lm_head(hidden)


def load_alone(pair, input_share, target_share):
    """A pair's size in fair shares of a row (input and target together), to place the largest first."""
    return len(pair[0]) / input_share + len(pair[1]) / target_share


def pack(pairs):
    """Rows of pair indices, EXAMPLES_PER_ROW pairs a row on average, balanced so that rows come out about equally long.

    Longest pair first, each to the row it lengthens least, length being the larger of the row's input
    and target tokens, each measured against its share of the batch's (a row's fair share is 1).
    """
    count = math.ceil(len(pairs) / EXAMPLES_PER_ROW)
    input_share = max(1, sum(len(source) for source, _ in pairs)) / count
    target_share = max(1, sum(len(target) for _, target in pairs)) / count
    rows = [[] for _ in range(count)]
    used = [(0, 0) for _ in range(count)]

    def load(position, source, target):
        """How full row `position` would be with a pair of these lengths added, in fair shares."""
        return max((used[position][0] + source) / input_share, (used[position][1] + target) / target_share)

    for index in sorted(range(len(pairs)), key=lambda item: (-load_alone(pairs[item], input_share, target_share), item)):
        source, target = len(pairs[index][0]), len(pairs[index][1])
        chosen = min(range(count), key=lambda position: (load(position, source, target), position))
        rows[chosen].append(index)
        used[chosen] = (used[chosen][0] + source, used[chosen][1] + target)
    return [row for row in rows if row]


def _segments(rows, lengths, multiple):
    """Per position, the segment (pair index) a row's concatenated sequences belong to, PADDING after them."""
    return pad([[index for index in row for _ in range(lengths[index])] for row in rows], PADDING, multiple)


def _additive(allowed):
    """A boolean [rows, queries, keys] mask as the additive [rows, 1, queries, keys] float mask T5's attention adds."""
    blocked = torch.finfo(torch.float32).min
    return torch.zeros(allowed.shape, dtype=torch.float32, device=allowed.device).masked_fill(~allowed, blocked)[:, None]


def packed_tensors(pairs, pad_id, decoder_start_id, device, multiple=1):
    """The packed rows of (input ids, target ids) pairs: model inputs, the masks, the real target tokens and their pair index.

    Rows are padded to a width that is a multiple of `multiple` (the `pad_to_multiple_of` option).

    Returns a dict with `input_ids`, `encoder_mask`, `decoder_input_ids`, `decoder_mask`, `cross_mask`,
    `predicting` (real target positions), `targets` and `owners` (the pair each target token belongs
    to), the last two in `predicting` order.
    """
    rows = pack(pairs)
    sources = [[token for index in row for token in pairs[index][0]] for row in rows]
    targets = [[token for index in row for token in pairs[index][1]] for row in rows]
    # Each target shifted right behind the decoder start token, inside its own segment.
    decoder_inputs = [[token for index in row for token in [decoder_start_id, *pairs[index][1][:-1]]] for row in rows]
    source_segments = torch.tensor(_segments(rows, [len(source) for source, _ in pairs], multiple), device=device)
    target_segments = torch.tensor(_segments(rows, [len(target) for _, target in pairs], multiple), device=device)
    width = target_segments.size(1)
    causal = torch.ones(width, width, dtype=torch.bool, device=device).tril()
    encoder_allowed = source_segments[:, :, None] == source_segments[:, None, :]
    decoder_allowed = (target_segments[:, :, None] == target_segments[:, None, :]) & causal
    # A padding query of the decoder attends to every input position: no row of its scores is all masked.
    cross_allowed = (target_segments[:, :, None] == source_segments[:, None, :]) | (target_segments[:, :, None] == PADDING)
    predicting = target_segments != PADDING
    return {
        "input_ids": torch.tensor(pad(sources, pad_id, multiple), dtype=torch.long, device=device),
        "encoder_mask": _additive(encoder_allowed),
        "decoder_input_ids": torch.tensor(pad(decoder_inputs, pad_id, multiple), dtype=torch.long, device=device),
        "decoder_mask": _additive(decoder_allowed),
        "cross_mask": _additive(cross_allowed),
        "predicting": predicting,
        "targets": torch.tensor(pad(targets, pad_id, multiple), dtype=torch.long, device=device)[predicting],
        "owners": target_segments[predicting],
    }


def packed_token_losses(model, pairs, pad_id, decoder_start_id, device, autocast, multiple=1):
    """Per-token cross-entropy of the real target tokens of `pairs`, packed, and the pair index of each token."""
    tensors = packed_tensors(pairs, pad_id, decoder_start_id, device, multiple)
    with autocast():
        logits = model(
            tensors["input_ids"],
            tensors["encoder_mask"],
            tensors["decoder_input_ids"],
            tensors["decoder_mask"],
            tensors["cross_mask"],
            tensors["predicting"],
        )
    return functional.cross_entropy(logits.float(), tensors["targets"], reduction="none"), tensors["owners"]


def packed_seq2seq_task_losses(pad_id, decoder_start_id, device, autocast, multiple=1):
    """`task_losses` of a T5 student trained on packed rows (see multitask_loss.backward_micro_batch).

    The rows of the tasks asked for (`predict:` against labels, `explain:` against rationales) are
    packed together, so that one joint pass wastes no width on padding short label rows to the
    rationales' length. Each term is the (weighted) token mean over its task's tokens, as unpacked.
    """

    def task_losses(model, batch, tasks):
        pairs, task_of_pair, weight_of_pair = [], [], []
        for task, target in (("predict", "label"), ("explain", "rationale")):
            if task in tasks:
                pairs += [(item[task], item[target]) for item in batch]
                task_of_pair += [task] * len(batch)
                weight_of_pair += [item.get("weight", 1.0) for item in batch]
        losses, owners = packed_token_losses(model, pairs, pad_id, decoder_start_id, device, autocast, multiple)
        is_rationale = torch.tensor([task == "explain" for task in task_of_pair], device=device)[owners]
        weights = torch.tensor(weight_of_pair, dtype=torch.float32, device=device)[owners] if "weight" in batch[0] else None
        result = {}
        if "predict" in tasks:
            result["label"] = mean_over(losses, ~is_rationale, weights)
        if "explain" in tasks:
            result["rationale"] = mean_over(losses, is_rationale, weights)
        return result

    return task_losses
