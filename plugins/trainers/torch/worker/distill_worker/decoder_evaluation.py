"""Greedy label generation of a causal-LM student, as docs/decoder-students.md fixes it for every runtime.

Prompts are left-padded with `position_ids = cumsum(attention_mask) − 1` (clamped at 0), so that a
padded row computes what it computes alone; generation stops at the end token, or (label-then-rationale)
at the first token of the rationale separator; the label is the text before the separator.
"""

import torch

from .decoder_encoding import prompt_ids, separator_id


def parse_label(card, text):
    """The label in a generated text: the text before the rationale separator, trimmed."""
    separator = card["rationale_separator"].strip()
    if card["targets"] == "label-then-rationale" and separator and separator in text:
        text = text[: text.index(separator)]
    return text.strip()


def _left_padded(rows, pad_id, device):
    width = max(len(ids) for ids in rows)
    input_ids = torch.tensor([[pad_id] * (width - len(ids)) + ids for ids in rows], dtype=torch.long, device=device)
    attention_mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in rows], dtype=torch.long, device=device)
    return input_ids, attention_mask


@torch.no_grad()
def greedy_generate(model, rows, stop_ids, max_new_tokens, pad_id, device):
    """The greedily generated ids after each prompt in `rows`, each cut before its first stop token."""
    input_ids, attention_mask = _left_padded(rows, pad_id, device)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    output = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=True, logits_to_keep=1)
    generated = [[] for _ in rows]
    finished = [False] * len(rows)
    stops = torch.tensor(sorted(stop_ids), device=device)
    for _ in range(max_new_tokens):
        next_ids = output.logits[:, -1].argmax(-1)
        stopped = torch.isin(next_ids, stops).tolist()
        for index, token in enumerate(next_ids.tolist()):
            if not finished[index]:
                finished[index] = stopped[index]
                if not stopped[index]:
                    generated[index].append(token)
        if all(finished):
            break
        attention_mask = torch.cat([attention_mask, attention_mask.new_ones((len(rows), 1))], dim=1)
        position_ids = position_ids[:, -1:] + 1
        output = model(
            input_ids=next_ids[:, None],
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=output.past_key_values,
            use_cache=True,
        )
    return generated


@torch.no_grad()
def evaluate_decoder(model, tokenizer, card, examples, score, device, max_new_tokens, batch_size, autocast):
    """Greedy-generates each example's label from its `predict` prompt and scores it; returns (accuracy, correct, predictions)."""
    model = getattr(model, "module", model)
    was_training = model.training
    model.eval()
    prompts = prompt_ids(card, tokenizer, "predict", [example["input"] for example in examples])
    stop_ids = {card["eos_token_id"]}
    if card["targets"] == "label-then-rationale":
        stop_ids.add(separator_id(card, tokenizer))
    stop_ids.discard(None)
    order = sorted(range(len(examples)), key=lambda index: len(prompts[index]))
    predictions = [""] * len(examples)
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        rows = [prompts[index] for index in indices]
        with autocast():
            generated = greedy_generate(model, rows, stop_ids, max_new_tokens, card["pad_token_id"], device)
        for index, ids in zip(indices, generated, strict=True):
            predictions[index] = parse_label(card, tokenizer.decode(ids, skip_special_tokens=True))
    correct = sum(score(prediction, example["label"]) for prediction, example in zip(predictions, examples, strict=True))
    if was_training:
        model.train()
    accuracy = correct / len(examples) if examples else 0.0
    return accuracy, correct, predictions
