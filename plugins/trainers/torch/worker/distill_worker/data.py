"""Training data: encoding both tasks, and length-bucketed batches in a seeded, resumable order."""

import json
import math
import random

from .line_protocol import UserMistake

PREDICT_PREFIX = "predict: "
EXPLAIN_PREFIX = "explain: "


def _check_weight(path, number, record):
    """A `weight` must be a finite number at least 0 (bool is not a number here)."""
    weight = record["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
        raise UserMistake(f"{path}:{number}: `weight` must be a finite number at least 0, not {json.dumps(weight)}")


def read_examples(path):
    """Examples `{id, input, label, rationale}` (and an optional loss `weight`) from a JSON Lines file."""
    examples = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                for key in ("input", "label"):
                    if not isinstance(record.get(key), str):
                        raise UserMistake(f"{path}:{number}: `{key}` must be a string")
                if "weight" in record:
                    _check_weight(path, number, record)
                record.setdefault("rationale", "")
                record["rationale"] = record["rationale"] or ""
                examples.append(record)
    except FileNotFoundError:
        raise UserMistake(f"data file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise UserMistake(f"{path}: not JSON Lines ({error.msg} at line {error.lineno})") from None
    return examples


def encode_examples(examples, tokenizer, max_input_length, max_target_length):
    """Token ids of both tasks for each example, truncated to the maximum lengths."""

    def ids(texts, limit):
        """Token ids, truncated, each ending with </s>."""
        encoded = tokenizer(texts, truncation=True, max_length=limit, add_special_tokens=True)["input_ids"]
        return [list(item) for item in encoded]

    inputs = [example["input"] for example in examples]
    predict = ids([PREDICT_PREFIX + text for text in inputs], max_input_length)
    explain = ids([EXPLAIN_PREFIX + text for text in inputs], max_input_length)
    labels = ids([example["label"] for example in examples], max_target_length)
    rationales = ids([example["rationale"] for example in examples], max_target_length)
    rows = zip(predict, explain, labels, rationales, strict=True)
    return [{"predict": p, "explain": e, "label": label, "rationale": r} for p, e, label, r in rows]


def with_weights(encoded, examples):
    """The encoded examples with each one's loss `weight`, where any example carries one (1 where it does not).

    Without weights in the data the encoded examples stay as they were, and the losses take the
    unweighted path: inputs from before weights existed train exactly as they did.
    """
    if not any("weight" in example for example in examples):
        return encoded
    return [{**item, "weight": float(example.get("weight", 1.0))} for item, example in zip(encoded, examples, strict=True)]


def epoch_batches(lengths, batch_size, seed, epoch, bucket_batches, world_size=1, rank=0):
    """The batches (lists of example indices) of one epoch, as a pure function of (seed, epoch).

    Examples are shuffled, cut into windows of `bucket_batches` batches, sorted by length
    inside each window (little padding), batched, and the batches shuffled again so that
    lengths do not drift through the epoch. Being a pure function of the seed and epoch is
    what lets a resumed run rebuild the same order from two integers. Under DDP every rank
    takes every `world_size`-th batch of the same list.
    """
    generator = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    generator.shuffle(order)
    window = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda index: lengths[index])
        batches.extend(chunk[offset : offset + batch_size] for offset in range(0, len(chunk), batch_size))
    generator.shuffle(batches)
    usable = len(batches) - len(batches) % world_size
    return batches[rank:usable:world_size]


def pad(sequences, value, multiple=1):
    """Right-pads lists of ids into a rectangular list, its width rounded up to a multiple of `multiple`."""
    width = max(len(sequence) for sequence in sequences)
    width = -(-width // multiple) * multiple
    return [sequence + [value] * (width - len(sequence)) for sequence in sequences]
