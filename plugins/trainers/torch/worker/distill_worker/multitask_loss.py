"""α·CE(label) + (1−α)·CE(rationale), each a token mean, from one joint pass or two passes.

With per-example weights (`weight` in the training data, e.g. the teacher's confidence), each term
is a weighted token mean: every token of an example counts `weight` times, and the sum is divided
by the weight of the batch's tokens, Σ wᵢ·(token losses of i) / Σ wᵢ·(tokens of i). That is the
unweighted token mean when every weight is 1 (bit for bit: the same sums), and a batch where all
weights but one are 0 gives exactly the gradient of that example alone, so a weight only decides
how much an example counts against the others in its batch; the loss scale the learning rate was
tuned for is kept. A batch whose weights are all 0 has loss 0 and no gradient (never 0/0 = NaN).

`joint` puts the `predict:` and `explain:` rows of a batch into one forward pass and
splits the per-token loss with a mask per task; `separate` runs one pass per task, as the
paper's code does. Both give the same losses (up to float noise). `separate` is the default:
measured on 2 CPU cores it was 15-20% faster at d_model 64 and 128 (the joint pass pads the
short label rows to the rationale length in the decoder), and equal within noise at 256; see
docs/trainer-protocol.md ("Measurements").
"""

import contextlib

import torch
import torch.nn.functional as functional

from .data import pad

IGNORE = -100


def _tensor(rows, value, device, multiple):
    return torch.tensor(pad(rows, value, multiple), dtype=torch.long, device=device)


def _token_losses(model, input_rows, target_rows, pad_id, device, autocast, multiple):
    """Per-token cross-entropy [rows, target length] and the mask of real target tokens."""
    input_ids = _tensor(input_rows, pad_id, device, multiple)
    attention_mask = input_ids.ne(pad_id).long()
    labels = _tensor(target_rows, IGNORE, device, multiple)
    unwrapped = getattr(model, "module", model)
    decoder_input_ids = unwrapped.prepare_decoder_input_ids_from_labels(labels=labels)
    with autocast():
        logits = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids).logits
    losses = functional.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=IGNORE, reduction="none"
    ).reshape(labels.shape)
    return losses, labels.ne(IGNORE)


def mean_over(losses, mask, weights=None):
    """The mean of `losses` where `mask` is set (0 where it is set nowhere), weighted by `weights` when given.

    `weights` broadcasts against `losses` (one per row, or one per token). The weighted mean divides by
    the masked weight sum, or by 1 where that is 0: the numerator is then 0 too, so the loss is 0 and
    its gradient 0 rather than NaN.
    """
    if weights is None:
        return (losses * mask).sum() / mask.sum().clamp(min=1)
    weighted = mask * weights
    total = weighted.sum()
    return (losses * weighted).sum() / torch.where(total > 0, total, torch.ones_like(total))


def row_weights(batch, repeats, device):
    """The loss weight of each row when `repeats` rows per example are stacked task after task; None without weights."""
    if "weight" not in batch[0]:
        return None
    return torch.tensor([item["weight"] for item in batch] * repeats, dtype=torch.float32, device=device)


def seq2seq_task_losses(pad_id, device, autocast, multiple=1):
    """`task_losses` of a T5 student: `predict:` rows against labels, `explain:` rows against rationales."""

    def task_losses(model, batch, tasks):
        inputs, targets = [], []
        for task, target in (("predict", "label"), ("explain", "rationale")):
            if task in tasks:
                inputs += [item[task] for item in batch]
                targets += [item[target] for item in batch]
        losses, mask = _token_losses(model, inputs, targets, pad_id, device, autocast, multiple)
        size = len(batch)
        weights = row_weights(batch, len(tasks), device)
        weights = None if weights is None else weights[:, None]
        if tasks == ("predict",):
            return {"label": mean_over(losses, mask, weights)}
        if tasks == ("explain",):
            return {"rationale": mean_over(losses, mask, weights)}
        first, rest = (None, None) if weights is None else (weights[:size], weights[size:])
        return {"label": mean_over(losses[:size], mask[:size], first), "rationale": mean_over(losses[size:], mask[size:], rest)}

    return task_losses


def count_tokens(batch, with_rationale):
    """Real (unpadded) tokens a batch feeds the model, for tokens per second."""
    total = sum(len(item["predict"]) + len(item["label"]) for item in batch)
    if with_rationale:
        total += sum(len(item["explain"]) + len(item["rationale"]) for item in batch)
    return total


def backward_micro_batch(model, batch, alpha, scale, with_rationale, passes, task_losses, sync, parallel=None):
    """Computes both task losses for one micro-batch, runs backward on the weighted sum × `scale`.

    `task_losses(model, batch, tasks)` gives the mean losses (`label`, `rationale`) of the rows of
    `tasks` ("predict", "explain") in one forward pass (:func:`seq2seq_task_losses`,
    decoder_loss.decoder_task_losses). `sync` is False for all but the last micro-batch of an
    accumulation window, so DDP all-reduces gradients once per optimizer step. With `parallel` (a
    parallel_task_passes.ParallelTaskPasses, one process only), separate passes run at once. Returns
    (total, label, rationale) losses as floats (rationale is None without rationales).
    """
    no_sync = getattr(model, "no_sync", None)
    last_context = contextlib.nullcontext() if sync or no_sync is None else no_sync()
    if not with_rationale:
        with last_context:
            label_loss = task_losses(model, batch, ("predict",))["label"]
            (label_loss * scale).backward()
        value = label_loss.item()
        return value, value, None
    if passes == "joint":
        with last_context:
            losses = task_losses(model, batch, ("predict", "explain"))
            label_loss, rationale_loss = losses["label"], losses["rationale"]
            total = alpha * label_loss + (1 - alpha) * rationale_loss
            (total * scale).backward()
            total = total.detach()
    elif parallel is not None:

        def task_pass(task, key, weight):
            def run():
                loss = task_losses(model, batch, (task,))[key]
                (weight * loss * scale).backward()
                return loss.detach()

            return run

        # The longer `explain:` pass stays on this thread, which may have the larger share of the threads.
        label_loss, rationale_loss = parallel.run(task_pass("predict", "label", alpha), task_pass("explain", "rationale", 1 - alpha))
        total = alpha * label_loss + (1 - alpha) * rationale_loss
    else:
        # Backward after each pass: DDP allows one forward per backward, and activations are freed sooner.
        quiet = no_sync() if no_sync is not None else contextlib.nullcontext()
        with quiet:
            label_loss = task_losses(model, batch, ("predict",))["label"]
            (alpha * label_loss * scale).backward()
        with last_context:
            rationale_loss = task_losses(model, batch, ("explain",))["rationale"]
            ((1 - alpha) * rationale_loss * scale).backward()
        total = alpha * label_loss.detach() + (1 - alpha) * rationale_loss.detach()
    return total.item(), label_loss.item(), rationale_loss.item()
