"""PyTorch eager greedy decoding of a student checkpoint: the baseline of the inference bench.

    python pytorch_generate.py --checkpoint DIR --inputs texts.json --threads 2 --max-new-tokens 32 \
        --batch-one 50 --batch-size 32 --batches 4

`texts.json` is a JSON list of prefixed inputs (``predict: …``). Batch 1: each of the first
`--batch-one` texts alone, timed one by one (after warm-up). Batch `--batch-size`: `--batches`
batches, padded, timed as a whole. ``model.generate`` with ``do_sample=False, num_beams=1``
under ``torch.inference_mode``, the way a user would call it. Prints one JSON line: latencies,
throughput, the generated ids (for agreement with the other runtimes) and the cores other processes
used while the batch-1 inputs were timed.
"""

import argparse
import json
import os
import time


def machine_busy_seconds():
    """CPU seconds the whole machine has been busy (every core, every process), or None off Linux.

    With the process's own CPU time it gives the cores other processes used while the batch-1 inputs
    were timed, as the Node side measures it for the other runtimes.
    """
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except OSError:
        return None
    # The fields Node's os.cpus() sums on the other side: user, nice, system and irq.
    user, nice, system, _idle, _iowait, irq = fields[:6]
    return (user + nice + system + irq) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--max-new-tokens", type=int, required=True)
    parser.add_argument("--batch-one", type=int, required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--batches", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=5)
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(arguments.threads)
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(arguments.checkpoint)
    model = T5ForConditionalGeneration.from_pretrained(arguments.checkpoint).eval()
    with open(arguments.inputs, encoding="utf-8") as handle:
        texts = json.load(handle)

    def generate(batch):
        encoded = tokenizer(batch, return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(**encoded, max_new_tokens=arguments.max_new_tokens, do_sample=False, num_beams=1)
        # Drop the decoder start token and the padding after </s>, as the Node decoder returns ids.
        result = []
        for row in output.tolist():
            ids = row[1:]
            if tokenizer.eos_token_id in ids:
                ids = ids[: ids.index(tokenizer.eos_token_id)]
            result.append([token for token in ids if token != tokenizer.pad_token_id])
        return result

    for text in texts[: arguments.warmup]:
        generate([text])
    latencies = []
    single_ids = []
    busy_before, own_before, wall_before = machine_busy_seconds(), time.process_time(), time.perf_counter()
    for text in texts[: arguments.batch_one]:
        started = time.perf_counter()
        single_ids.append(generate([text])[0])
        latencies.append((time.perf_counter() - started) * 1000)
    other_cores = None
    wall = time.perf_counter() - wall_before
    # The OS counts CPU time in ticks (10 ms): shorter windows say nothing (50 ms, as on the Node side).
    if busy_before is not None and wall >= 0.05:
        busy = machine_busy_seconds() - busy_before
        other_cores = round(max(0.0, busy - (time.process_time() - own_before)) / wall, 3)
    generate(texts[: arguments.batch_size])  # warm-up at the batch size
    started = time.perf_counter()
    batched = 0
    for index in range(arguments.batches):
        batch = texts[index * arguments.batch_size : (index + 1) * arguments.batch_size]
        generate(batch)
        batched += len(batch)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "latencies_ms": latencies,
                "batch_ids": single_ids,
                "batched_examples": batched,
                "batched_seconds": seconds,
                "threads": torch.get_num_threads(),
                "other_processes_cores": other_cores,
            }
        )
    )


if __name__ == "__main__":
    main()
