"""PyTorch eager greedy `generate` of a causal-LM student folder, timed per prompt at batch 1.

    python pytorch_causal_generate.py --model DIR --prompts prompts.json --threads 2 --new-tokens 32 --warmup 2

`prompts.json` is a JSON list of prompt texts (task markers included); the first `--warmup` of them
warm up and are not reported. Each is encoded as docs/decoder-students.md says (with the special
tokens when `distill-student.json` has `prompt_special_tokens`), then timed twice: ``generate`` of one
new token (the prompt pass and one argmax) and of `--new-tokens` tokens, with ``do_sample=False,
num_beams=1`` under ``torch.inference_mode``, the way a user would call it. Prints one JSON line:
the milliseconds of both calls per prompt and the generated ids.
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

    def generate(prompt, new_tokens):
        encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=card["prompt_special_tokens"])
        started = time.perf_counter()
        with torch.inference_mode():
            output = model.generate(**encoded, max_new_tokens=new_tokens, do_sample=False, num_beams=1)
        return (time.perf_counter() - started) * 1000, output[0, encoded["input_ids"].shape[1] :].tolist()

    prompt_ms, generation_ms, ids = [], [], []
    for index, prompt in enumerate(prompts):
        first, _ = generate(prompt, 1)
        whole, generated = generate(prompt, arguments.new_tokens)
        if index < arguments.warmup:
            continue
        prompt_ms.append(first)
        generation_ms.append(whole)
        ids.append(generated)
    print(
        json.dumps(
            {
                "prompt_ms": prompt_ms,
                "generation_ms": generation_ms,
                "ids": ids,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
