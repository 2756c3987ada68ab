"""The task losses of a causal-LM student: cross-entropy at target positions only.

The output layer runs only where a row predicts a target token: the hidden states are gathered
there first, then `lm_head` makes their logits. With a 49k-token vocabulary (SmolLM2) the logits
of every prompt position would otherwise cost a large share of each step, and the prompt is never
counted in the loss anyway.
"""

import torch
import torch.nn.functional as functional

from .data import pad
from .decoder_encoding import LABEL, RATIONALE, training_rows
from .lora import base_causal_model
from .multitask_loss import mean_over, row_weights


class TargetLogits(torch.nn.Module):
    """A causal LM whose forward gives the logits of the positions `predicting` marks, [marked positions, vocabulary].

    It is this module that DDP wraps, so that gradients are all-reduced through its forward (a
    forward that bypassed DDP's wrapper would never synchronise them).
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, predicting):
        causal = base_causal_model(self.model)
        hidden = causal.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        return causal.lm_head(hidden[predicting])


def row_tensors(rows, pad_id, device, multiple=1):
    """Right-padded ids, attention mask and per-token tasks of (ids, tasks) rows, `multiple` as in data.pad.

    The attention mask comes from the row lengths, not from comparing with `pad_id`: a tokenizer
    without a pad token pads with its end token, which is also a target token.
    """
    lengths = [len(ids) for ids, _ in rows]
    input_ids = torch.tensor(pad([ids for ids, _ in rows], pad_id, multiple), dtype=torch.long, device=device)
    tasks = torch.tensor(pad([kinds for _, kinds in rows], 0, multiple), dtype=torch.long, device=device)
    width = input_ids.size(1)
    attention_mask = (torch.arange(width, device=device)[None, :] < torch.tensor(lengths, device=device)[:, None]).long()
    return input_ids, attention_mask, tasks


def decoder_task_losses(pad_id, device, autocast, joined, multiple=1):
    """`task_losses` of a causal-LM student (see multitask_loss.backward_micro_batch).

    Rows are padded to a width that is a multiple of `multiple` (the `pad_to_multiple_of` option).

    `joined` (label-then-rationale): one row per example carries both targets, so the rows of
    ("predict", "explain") are the predict rows alone. With example weights each target token
    counts its row's weight (see multitask_loss for the normalisation).
    """

    def task_losses(model, batch, tasks):
        if joined:
            rows = training_rows(batch, "predict", True)
            weights = row_weights(batch, 1, device)
        else:
            rows = [row for task in tasks for row in training_rows(batch, task, False)]
            weights = row_weights(batch, len(tasks), device)
        input_ids, attention_mask, kinds = row_tensors(rows, pad_id, device, multiple)
        # Position t predicts token t + 1: the positions before a target token.
        predicting = torch.zeros_like(kinds, dtype=torch.bool)
        predicting[:, :-1] = kinds[:, 1:] > 0
        targets = input_ids[:, 1:][predicting[:, :-1]]
        target_kinds = kinds[:, 1:][predicting[:, :-1]]
        with autocast():
            logits = model(input_ids, attention_mask, predicting)
        losses = functional.cross_entropy(logits.float(), targets, reduction="none")
        if weights is not None:
            # The weight of each target token: its row's.
            weights = weights[:, None].expand_as(kinds)[:, 1:][predicting[:, :-1]]
        return {
            "label": mean_over(losses, target_kinds == LABEL, weights),
            "rationale": mean_over(losses, target_kinds == RATIONALE, weights),
        }

    return task_losses
