"""One code path for a single process (CPU or CUDA) and for DDP under torchrun."""

import contextlib
import os

import torch

from .line_protocol import UserMistake


class Placement:
    """Where this process trains: device, rank and world size, and whether bf16 autocast is on."""

    def __init__(self, device, rank, world_size, local_rank, bf16):
        self.device = device
        self.rank = rank
        self.world_size = world_size
        self.local_rank = local_rank
        self.bf16 = bf16

    @property
    def is_main(self):
        """Rank 0 speaks the protocol, evaluates and writes files."""
        return self.rank == 0

    @property
    def distributed(self):
        """Whether torchrun started several processes."""
        return self.world_size > 1

    def autocast(self):
        """bf16 autocast for training steps when enabled (CUDA or CPU); a no-op context otherwise."""
        if self.bf16:
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def one_cast_per_step(self):
        """A context around a whole optimizer step in which autocast casts each weight to bf16 once, not once a pass.

        Autocast caches the bf16 copy of each fp32 weight until its outermost region exits; both task
        passes and every micro-batch of a step read the same weights (they change at the optimizer step),
        so a disabled region around the step keeps those copies for all of them. Gradients are the same
        up to the order of float additions. Measured in paired steps (d_model 256, batch 16, one thread):
        1.028× (docs/trainer-protocol.md, "Precision"). A no-op context without autocast.
        """
        if self.bf16:
            return torch.autocast(device_type=self.device.type, enabled=False)
        return contextlib.nullcontext()

    def evaluation_autocast(self):
        """bf16 autocast for generation on CUDA only.

        On a CPU the model is scored in fp32, the precision of the exported ONNX student, so the
        accuracy the worker reports for validation and test is the one Node inference reproduces.
        """
        if self.bf16 and self.device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def barrier(self):
        """Waits for every rank (a no-op in a single process)."""
        if self.distributed:
            torch.distributed.barrier()

    def any_rank(self, *flags):
        """Each flag true on any rank (all-reduce max), so every rank stops at the same step."""
        if not self.distributed:
            return flags
        tensor = torch.tensor([1.0 if flag else 0.0 for flag in flags], device=self.device)
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX)
        return tuple(bool(value) for value in tensor.tolist())

    def mean_across(self, values):
        """The mean of each value over the ranks (losses reported for the whole batch, not rank 0's share)."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
        return [value / self.world_size for value in tensor.tolist()]


def cpu_bf16_supported():
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX).

    Only then does bf16 autocast pay on a CPU: measured on an AMD EPYC with AVX512-BF16, a bf16
    `torch.mm` reached 4x the fp32 GFLOP/s and the worker's d_model 256 steps ran 1.32x faster
    (BENCHMARKS.md, trainer throughput). Elsewhere bf16 is emulated and slower than fp32.
    """
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def place(options):
    """Picks the device and joins the process group when torchrun started us."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    wanted = options["device"]
    if wanted == "cuda" and not cuda:
        raise UserMistake("option `device: cuda` was given but this machine has no usable CUDA device")
    use_cuda = cuda and wanted != "cpu"
    if options["devices"] > 1 and world_size == 1:
        raise UserMistake(
            f"option `devices: {options['devices']}` needs torchrun (the plugin launches it); "
            "run `torchrun --nproc_per_node N main.py --request FILE` when starting the worker by hand"
        )
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise UserMistake(f"{world_size} processes but only {torch.cuda.device_count()} CUDA devices")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world_size > 1:
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    bf16_wanted = options["bf16"]
    bf16_available = torch.cuda.is_bf16_supported() if use_cuda else cpu_bf16_supported()
    if bf16_wanted is True and not bf16_available:
        where = "this GPU" if use_cuda else "this CPU (it has neither AVX512-BF16 nor AMX)"
        raise UserMistake(f"option `bf16: true` needs native bf16 support, which {where} lacks; use `bf16: auto` or `false`")
    bf16 = bf16_available if bf16_wanted == "auto" else bool(bf16_wanted)
    return Placement(device, rank, world_size, local_rank, bf16)


def wrap_model(model, placement):
    """DDP around the model when there are several processes."""
    if not placement.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [placement.local_rank] if placement.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def shut_down(placement):
    """Leaves the process group, so torchrun sees a clean exit."""
    if placement.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
