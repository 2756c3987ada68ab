"""The machine's matrix-multiply peak: fp32 ``torch.mm`` of large square matrices on N threads.

    python matmul_peak.py --threads 2 [--size 2048] [--seconds 3] [--dtype float32|bfloat16]

Prints one JSON line: the best GFLOP/s of the timed repetitions. Run as its own process, with
the same thread settings as the training runs, so that the achieved GFLOP/s of a training run
can be read as a share of what this machine's BLAS reaches at best.
"""

import argparse
import json
import time

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent measuring, after warm-up")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    size = arguments.size
    dtype = getattr(torch, arguments.dtype)
    left = torch.randn(size, size, dtype=dtype)
    right = torch.randn(size, size, dtype=dtype)
    output = torch.empty(size, size, dtype=dtype)
    for _ in range(3):  # warm-up: thread pool start, page faults, BLAS kernel selection
        torch.mm(left, right, out=output)
    flops = 2 * size**3
    best = 0.0
    repetitions = 0
    deadline = time.perf_counter() + arguments.seconds
    while time.perf_counter() < deadline or repetitions < 3:
        started = time.perf_counter()
        torch.mm(left, right, out=output)
        best = max(best, flops / (time.perf_counter() - started))
        repetitions += 1
    print(
        json.dumps(
            {"threads": torch.get_num_threads(), "dtype": arguments.dtype, "size": size, "repetitions": repetitions, "gflops": best / 1e9}
        )
    )


if __name__ == "__main__":
    main()
