"""Accuracy of greedy `predict:` generations against gold labels."""

import torch

from .data import PREDICT_PREFIX, pad


@torch.no_grad()
def evaluate(model, tokenizer, examples, score, device, max_input_length, max_new_tokens, batch_size, autocast):
    """Greedy-decodes the label of each example and scores it; returns (accuracy, correct, predictions).

    Examples are decoded in length order so batches carry little padding.
    """
    unwrapped = getattr(model, "module", model)
    was_training = unwrapped.training
    unwrapped.eval()
    encoded = tokenizer(
        [PREDICT_PREFIX + example["input"] for example in examples],
        truncation=True,
        max_length=max_input_length,
    )["input_ids"]
    order = sorted(range(len(examples)), key=lambda index: len(encoded[index]))
    predictions = [""] * len(examples)
    pad_id = tokenizer.pad_token_id
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        input_ids = torch.tensor(pad([list(encoded[index]) for index in indices], pad_id), device=device)
        with autocast():
            generated = unwrapped.generate(
                input_ids=input_ids,
                attention_mask=input_ids.ne(pad_id).long(),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                num_beams=1,
            )
        texts = tokenizer.batch_decode(generated, skip_special_tokens=True)
        for index, text in zip(indices, texts, strict=True):
            predictions[index] = text
    correct = sum(score(prediction, example["label"]) for prediction, example in zip(predictions, examples, strict=True))
    if was_training:
        unwrapped.train()
    accuracy = correct / len(examples) if examples else 0.0
    return accuracy, correct, predictions
