"""What the handshake reports: library versions and what the machine can do."""

import os
import platform

from . import WORKER_VERSION
from .protocol import PROTOCOL_VERSION


def library_versions():
    """Versions of the libraries the worker trains with (they go into the run lockfile)."""
    import tokenizers
    import torch
    import transformers

    return {
        "worker": WORKER_VERSION,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }


def device_capabilities():
    """CUDA availability, device count, bf16 support and CPU threads."""
    import torch

    cuda_available = torch.cuda.is_available()
    device_count = torch.cuda.device_count() if cuda_available else 0
    cuda_bf16 = bool(cuda_available and torch.cuda.is_bf16_supported())
    from .distributed import cpu_bf16_supported

    return {
        "cuda_available": cuda_available,
        "device_count": device_count,
        "device_names": [torch.cuda.get_device_name(index) for index in range(device_count)],
        "bf16_supported": cuda_bf16,
        "cpu_bf16_supported": cpu_bf16_supported(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }


def hello_fields():
    """The payload of the ``hello`` event."""
    return {
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "versions": library_versions(),
        "capabilities": device_capabilities(),
    }
