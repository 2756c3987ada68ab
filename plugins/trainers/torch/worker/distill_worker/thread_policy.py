"""How many CPU threads a run trains with, when neither the `threads` option nor the environment says.

A small student runs thousands of small operators per step. With sleeping OpenMP threads (the
worker's default wait policy) every parallel operator wakes the second thread, which costs more than
the second core brings below a model width of about 256: measured on 2 cores, one thread trained a
d_model 128 T5 faster than two (see docs/trainer-protocol.md, "Measurements"). Wider students keep
torch's own choice (one thread per physical core). The `threads` option, and `OMP_NUM_THREADS` in the
environment, always win; on CUDA and under torchrun (one thread per rank) the policy stays out.
"""

import os

import torch

# Students at most this wide (d_model, or hidden_size for a causal LM) train on one thread.
ONE_THREAD_MAX_WIDTH = 128


def model_width(model):
    """The student's hidden width, from its config (T5: d_model; Llama and others: hidden_size)."""
    config = model.config
    return getattr(config, "d_model", None) or getattr(config, "hidden_size", None)


def choose_threads(option, model, placement):
    """(threads, policy): the CPU threads to train with and, in words, why; sets torch's thread count."""
    if option:
        torch.set_num_threads(option)
        return option, "option `threads`"
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads(), "$OMP_NUM_THREADS"
    if placement.device.type != "cpu" or placement.distributed:
        return torch.get_num_threads(), "torch default"
    width = model_width(model)
    if width is not None and width <= ONE_THREAD_MAX_WIDTH:
        torch.set_num_threads(1)
        return 1, f"one thread: model width {width} <= {ONE_THREAD_MAX_WIDTH}"
    return torch.get_num_threads(), f"torch default: model width {width} > {ONE_THREAD_MAX_WIDTH}"
