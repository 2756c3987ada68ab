"""The machine's memory bandwidth as a large copy sees it: a 256 MiB float32 tensor copied on N threads.

    python memory_bandwidth.py --threads 2 [--mebibytes 256] [--repetitions 10]

Prints one JSON line: the best GB/s (bytes read plus bytes written, 10^9 bytes a second) of the timed
copies. The tensor is many times the size of any cache, so every copy goes to memory; the inference
bench divides the bytes of weights a decoding step reads by it, for the memory-bandwidth floor.
"""

import argparse
import json
import time

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--mebibytes", type=int, default=256)
    parser.add_argument("--repetitions", type=int, default=10)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    elements = arguments.mebibytes * 2**20 // 4
    source = torch.rand(elements)
    target = torch.empty_like(source)
    target.copy_(source)  # warm-up: page faults of the target
    best = 0.0
    for _ in range(arguments.repetitions):
        started = time.perf_counter()
        target.copy_(source)
        best = max(best, 2 * source.numel() * 4 / (time.perf_counter() - started))
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "mebibytes": arguments.mebibytes,
                "repetitions": arguments.repetitions,
                "kernel": "torch copy_ of a float32 tensor, bytes read + written",
                "gigabytes_per_second": best / 1e9,
            }
        )
    )


if __name__ == "__main__":
    main()
