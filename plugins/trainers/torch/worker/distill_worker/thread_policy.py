"""How many CPU threads a run trains with, when neither the `threads` option nor the environment says.

A small student runs thousands of small operators per step. With sleeping OpenMP threads every
parallel operator wakes the second thread, which costs more than the second core brings below a model
width of about 256. Measured on 2 cores, d_model 128, batch 16 (bench/trainer/worker_speed_check.py, 3
interleaved runs of 40 steps, 2026-12-07; docs/trainer-protocol.md, "One thread or two, with the task passes at once"): one thread 6.34
steps/s; two sleeping threads with the task passes in turn 4.44, slower; but two spinning threads with the
passes in turn 7.38 (against 5.68 for one thread in that run), and two threads with the passes at once
(`parallel_task_passes`, one thread each) 8.86 sleeping and 8.42 spinning. So a student up to width 128
takes torch's count (one thread per physical core) where the two task passes will run at once or its
threads spin, and one thread only where its threads sleep between operators that run one pass at a time.
Wider students always keep torch's count. The `threads` option, and `OMP_NUM_THREADS` in the environment,
always win; on CUDA and under torchrun (one thread per rank) the policy stays out.
"""

import os

import torch

# Students at most this wide (d_model, or hidden_size for a causal LM) train on one thread unless
# their task passes run at once or their threads spin.
ONE_THREAD_MAX_WIDTH = 128


def model_width(model):
    """The student's hidden width, from its config (T5: d_model; Llama and others: hidden_size)."""
    config = model.config
    return getattr(config, "d_model", None) or getattr(config, "hidden_size", None)


def choose_threads(option, model, placement, passes_at_once):
    """(threads, policy): the CPU threads to train with and, in words, why; sets torch's thread count.

    `passes_at_once(threads)` says whether the run's two task passes would run at once on `threads`
    (``parallel_task_passes.choose``); whether threads spin is read from ``OMP_WAIT_POLICY``, which
    ``wait_policy`` set before torch loaded.
    """
    if option:
        torch.set_num_threads(option)
        return option, "option `threads`"
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads(), "$OMP_NUM_THREADS"
    if placement.device.type != "cpu" or placement.distributed:
        return torch.get_num_threads(), "torch default"
    threads = torch.get_num_threads()
    if threads == 1:
        return threads, "torch default: one core"
    width = model_width(model)
    if width is None or width > ONE_THREAD_MAX_WIDTH:
        return threads, f"torch default: model width {width} > {ONE_THREAD_MAX_WIDTH}"
    if passes_at_once(threads):
        return threads, f"torch default: model width {width} <= {ONE_THREAD_MAX_WIDTH}, but its two task passes run at once"
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "ACTIVE":
        return threads, f"torch default: model width {width} <= {ONE_THREAD_MAX_WIDTH}, but its threads spin"
    torch.set_num_threads(1)
    return 1, f"one thread: model width {width} <= {ONE_THREAD_MAX_WIDTH}, threads that sleep, one task pass at a time"
