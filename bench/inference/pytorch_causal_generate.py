"""PyTorch greedy decoding of a causal-LM student folder at batch 1: ``generate`` beside a hand-written KV-cache loop.

    python pytorch_causal_generate.py --model DIR --prompts prompts.json --threads 2 --new-tokens 32 --warmup 2

`prompts.json` is a JSON list of prompt texts (task markers included); the first `--warmup` of them
warm up and are not reported. Each is encoded as docs/decoder-students.md says (with the special
tokens when `distill-student.json` has `prompt_special_tokens`), then timed, both ways one after the
other (interleaved), generating one new token (the prompt pass and one argmax) and `--new-tokens`
tokens, under ``torch.inference_mode``: ``generate(do_sample=False, num_beams=1)``, the way a user
calls it, and a loop that runs the prompt once and then one token at a time with its
``past_key_values``. Prints one JSON line: per way the milliseconds of both calls per prompt and the
generated ids, and what the floors of the bench need to know of the model.
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
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(arguments.threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with open(os.path.join(arguments.model, "distill-student.json"), encoding="utf-8") as handle:
        card = json.load(handle)
    tokenizer = AutoTokenizer.from_pretrained(arguments.model)
    model = AutoModelForCausalLM.from_pretrained(arguments.model, dtype=torch.float32).eval()
    with open(arguments.prompts, encoding="utf-8") as handle:
        prompts = json.load(handle)

    def encode(prompt):
        return tokenizer(prompt, return_tensors="pt", add_special_tokens=card["prompt_special_tokens"])

    def generate(prompt, new_tokens):
        encoded = encode(prompt)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, max_new_tokens=new_tokens, do_sample=False, num_beams=1)
        return (time.perf_counter() - started) * 1000, output[0, encoded["input_ids"].shape[1] :].tolist()

    def kv_loop(prompt, new_tokens):
        """Greedy decoding written by hand: the prompt once (last logits only), then one call per token with the cache."""
        encoded = encode(prompt)
        started = time.perf_counter()
        with torch.inference_mode():
            output = model(**encoded, use_cache=True, logits_to_keep=1)
            current = output.logits[:, -1].argmax(-1, keepdim=True)
            generated = [current]
            for _ in range(new_tokens - 1):
                output = model(input_ids=current, past_key_values=output.past_key_values, use_cache=True)
                current = output.logits[:, -1].argmax(-1, keepdim=True)
                generated.append(current)
        return (time.perf_counter() - started) * 1000, torch.cat(generated, dim=1)[0].tolist()

    ways = {"generate": generate, "kv_loop": kv_loop}
    measured = {way: {"prompt_ms": [], "generation_ms": [], "ids": []} for way in ways}
    for index, prompt in enumerate(prompts):
        for way, run in ways.items():
            first, _ = run(prompt, 1)
            whole, generated = run(prompt, arguments.new_tokens)
            if index < arguments.warmup:
                continue
            measured[way]["prompt_ms"].append(first)
            measured[way]["generation_ms"].append(whole)
            measured[way]["ids"].append(generated)
    weights = (
        sum(module.weight.numel() for module in model.model.modules() if isinstance(module, torch.nn.Linear)) + model.lm_head.weight.numel()
    )
    counted = prompts[arguments.warmup :] or prompts
    description = {
        "weights_per_token": weights,
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "mean_prompt_tokens": sum(encode(prompt)["input_ids"].shape[1] for prompt in counted) / max(1, len(counted)),
    }
    print(json.dumps({**measured, "model": description, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
