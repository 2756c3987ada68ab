"""PyTorch greedy decoding of a T5 student checkpoint, ``generate`` beside a hand-written KV-cache loop.

    python pytorch_generate.py --job job.json

`job.json` (written by student-inference-benchmark.ts) names the checkpoint, a copy of it whose end token
no output can take (`forced_checkpoint`, so a rationale runs exactly `max_new_tokens` steps), the threads,
the `predict: ` texts (labels), the `explain: ` texts (rationales), the batch sizes and the warm-up calls.
For every batch of every workload both ways run one after the other (interleaved), under
``torch.inference_mode``: ``model.generate(do_sample=False, num_beams=1)``, the way a user calls it, and
a loop that runs the encoder once and then the decoder on the last token with its ``past_key_values``.
Labels: one call per batch, timed. Rationales: each batch timed generating one token and all of them,
so the steps after the first can be told from the encoder and the first step. Prints one JSON line:
the times and ids of both ways, and what the floors of the bench need to know of the model.
"""

import argparse
import json
import time


def linear_weights(module, skip=()):
    """Elements of the weights of every ``nn.Linear`` under `module` whose name ends with none of `skip`."""
    import torch

    return sum(
        child.weight.numel()
        for name, child in module.named_modules()
        if isinstance(child, torch.nn.Linear) and not name.endswith(tuple(skip))
    )


def describe(model, tokenizer, job):
    """Matmul weights per encoded input token and per decoder step, and the mean input lengths."""
    cross_kv = ("EncDecAttention.k", "EncDecAttention.v")
    cross_kv_weights = linear_weights(model.decoder) - linear_weights(model.decoder, skip=cross_kv)
    return {
        "encoder_weights_per_input_token": linear_weights(model.encoder),
        # The cross-attention keys and values are projected once per input token, on the first step.
        "cross_kv_weights_per_input_token": cross_kv_weights,
        "decoder_weights_per_step": linear_weights(model.decoder, skip=cross_kv) + model.lm_head.weight.numel(),
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "mean_label_input_tokens": mean_length(tokenizer, job["label_texts"]),
        "mean_rationale_input_tokens": mean_length(tokenizer, job["rationale_texts"]),
    }


def mean_length(tokenizer, texts):
    return sum(len(tokenizer(text)["input_ids"]) for text in texts) / max(1, len(texts))


def strip(rows, eos, pad):
    """Ids as the Node decoder returns them: no start token, nothing after the end token, no padding."""
    result = []
    for row in rows:
        ids = row[1:] if row and row[0] == pad else row
        if eos in ids:
            ids = ids[: ids.index(eos)]
        result.append([token for token in ids if token != pad])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True)
    arguments = parser.parse_args()
    with open(arguments.job, encoding="utf-8") as handle:
        job = json.load(handle)

    import torch

    torch.set_num_threads(job["threads"])
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(job["checkpoint"])
    models = {
        "label": T5ForConditionalGeneration.from_pretrained(job["checkpoint"]).eval(),
        "rationale": T5ForConditionalGeneration.from_pretrained(job["forced_checkpoint"]).eval(),
    }
    pad = tokenizer.pad_token_id

    def generate(model, batch, new_tokens):
        encoded = tokenizer(batch, return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(**encoded, max_new_tokens=new_tokens, do_sample=False, num_beams=1)
        return output.tolist()

    def kv_loop(model, batch, new_tokens):
        """Greedy decoding written by hand: the encoder once, then one decoder call per token with the cache."""
        encoded = tokenizer(batch, return_tensors="pt", padding=True)
        eos = model.generation_config.eos_token_id
        with torch.inference_mode():
            encoder_outputs = model.get_encoder()(**encoded)
            current = torch.full((len(batch), 1), model.config.decoder_start_token_id, dtype=torch.long)
            finished = torch.zeros(len(batch), dtype=torch.bool)
            past = None
            rows = [current]
            for _ in range(new_tokens):
                output = model(
                    encoder_outputs=encoder_outputs,
                    attention_mask=encoded["attention_mask"],
                    decoder_input_ids=current,
                    past_key_values=past,
                    use_cache=True,
                )
                past = output.past_key_values
                following = output.logits[:, -1].argmax(-1)
                following = torch.where(finished, torch.full_like(following, pad), following)
                finished |= following == eos
                current = following.unsqueeze(1)
                rows.append(current)
                if bool(finished.all()):
                    break
        return torch.cat(rows, dim=1).tolist()

    ways = {"generate": generate, "kv_loop": kv_loop}
    measured = {way: {"label": {}, "rationale": {}} for way in ways}
    new_tokens = job["max_new_tokens"]
    warmup = job["warmup"]
    for batch_size in job["batch_sizes"]:
        key = str(batch_size)
        label_batches = [job["label_texts"][start : start + batch_size] for start in range(0, len(job["label_texts"]), batch_size)]
        for way in ways:
            measured[way]["label"][key] = {"call_ms": [], "ids": []}
        for index, batch in enumerate(label_batches):
            for way, run in ways.items():
                started = time.perf_counter()
                rows = run(models["label"], batch, new_tokens)
                elapsed = (time.perf_counter() - started) * 1000
                if index < warmup:
                    continue
                measured[way]["label"][key]["call_ms"].append(elapsed)
                measured[way]["label"][key]["ids"].extend(strip(rows, tokenizer.eos_token_id, pad))
        rationale_batches = [
            job["rationale_texts"][start : start + batch_size] for start in range(0, len(job["rationale_texts"]), batch_size)
        ]
        for way in ways:
            measured[way]["rationale"][key] = {"first_ms": [], "whole_ms": [], "ids": []}
        for index, batch in enumerate(rationale_batches):
            for way, run in ways.items():
                started = time.perf_counter()
                run(models["rationale"], batch, 1)
                first = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                rows = run(models["rationale"], batch, new_tokens)
                whole = (time.perf_counter() - started) * 1000
                if index < warmup:
                    continue
                measured[way]["rationale"][key]["first_ms"].append(first)
                measured[way]["rationale"][key]["whole_ms"].append(whole)
                # No end token in the forced copy: every row keeps its new_tokens ids.
                measured[way]["rationale"][key]["ids"].extend([row[1:] for row in rows])
    print(json.dumps({**measured, "model": describe(models["label"], tokenizer, job), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
