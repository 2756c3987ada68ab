"""PyTorch greedy decoding of a causal-LM student folder: ``generate`` beside a hand-written KV-cache loop.

    python pytorch_causal_generate.py --model DIR --prompts prompts.json --threads 2 --new-tokens 32 --warmup 2 \
        [--batch-size 8]

`prompts.json` is a JSON list of prompt texts (task markers included), taken `--batch-size` at a time
(left-padded, as the Node decoder pads); the first `--warmup` batches warm up and are not reported.
Each is encoded as docs/decoder-students.md says (with the special tokens when `distill-student.json`
has `prompt_special_tokens`), then timed, both ways one after the other (interleaved), generating one
new token (the prompt pass and one argmax) and `--new-tokens` tokens, under ``torch.inference_mode``:
``generate(do_sample=False, num_beams=1)``, the way a user calls it, and a loop that runs the prompts
once and then one token at a time with their ``past_key_values``. Prints one JSON line: per way the
milliseconds of both calls per batch and the generated ids of every prompt, and what the floors of the
bench need to know of the model.
"""

import argparse
import json
import os
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--new-tokens", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1)
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(arguments.threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with open(os.path.join(arguments.model, "distill-student.json"), encoding="utf-8") as handle:
        card = json.load(handle)
    tokenizer = AutoTokenizer.from_pretrained(arguments.model)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token_id = card["pad_token_id"]  # the bench writes it when the folder's card lacks it
    model = AutoModelForCausalLM.from_pretrained(arguments.model, dtype=torch.float32).eval()
    with open(arguments.prompts, encoding="utf-8") as handle:
        prompts = json.load(handle)

    def encode(batch):
        return tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=card["prompt_special_tokens"])

    def generate(batch, new_tokens):
        encoded = encode(batch)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, max_new_tokens=new_tokens, do_sample=False, num_beams=1)
        return (time.perf_counter() - started) * 1000, output[:, encoded["input_ids"].shape[1] :].tolist()

    def kv_loop(batch, new_tokens):
        """Greedy decoding written by hand: the prompts once (last logits only), then one call per token with the cache."""
        encoded = encode(batch)
        started = time.perf_counter()
        with torch.inference_mode():
            mask = encoded["attention_mask"]
            # Left padding: each row's positions count its own tokens only, as generate computes them.
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            output = model(input_ids=encoded["input_ids"], attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
            current = output.logits[:, -1].argmax(-1, keepdim=True)
            generated = [current]
            following = positions[:, -1:] + 1
            for _ in range(new_tokens - 1):
                mask = torch.cat([mask, torch.ones_like(current)], dim=1)
                output = model(
                    input_ids=current,
                    attention_mask=mask,
                    position_ids=following,
                    past_key_values=output.past_key_values,
                    use_cache=True,
                )
                current = output.logits[:, -1].argmax(-1, keepdim=True)
                generated.append(current)
                following = following + 1
        return (time.perf_counter() - started) * 1000, torch.cat(generated, dim=1).tolist()

    ways = {"generate": generate, "kv_loop": kv_loop}
    measured = {way: {"prompt_ms": [], "generation_ms": [], "ids": []} for way in ways}
    batches = [prompts[start : start + arguments.batch_size] for start in range(0, len(prompts), arguments.batch_size)]
    for index, batch in enumerate(batches):
        for way, run in ways.items():
            first, _ = run(batch, 1)
            whole, generated = run(batch, arguments.new_tokens)
            if index < arguments.warmup:
                continue
            measured[way]["prompt_ms"].append(first)
            measured[way]["generation_ms"].append(whole)
            measured[way]["ids"].extend(generated)
    weights = (
        sum(module.weight.numel() for module in model.model.modules() if isinstance(module, torch.nn.Linear)) + model.lm_head.weight.numel()
    )
    description = {
        "weights_per_token": weights,
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "mean_prompt_tokens": sum(encode([prompt])["input_ids"].shape[1] for prompt in prompts) / max(1, len(prompts)),
    }
    print(json.dumps({**measured, "model": description, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
