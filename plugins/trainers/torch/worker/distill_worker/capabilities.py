"""What the handshake reports: package versions and what the machine can do."""

import os

from . import WORKER_VERSION

# The packages the worker trains with; their versions go into the run's lockfile.
WORKER_PACKAGES = ("torch", "transformers", "tokenizers", "safetensors", "sentencepiece", "numpy", "gguf", "accelerate", "peft")


def worker_versions():
    """The worker's own version, Python's, and each package's (None for one that is not installed)."""
    from .line_protocol import package_versions

    return {"worker": WORKER_VERSION, **package_versions(WORKER_PACKAGES)}


def device_capabilities():
    """CUDA availability, device count, bf16 support and CPU threads."""
    import torch

    from .distributed import cpu_bf16_supported

    cuda_available = torch.cuda.is_available()
    device_count = torch.cuda.device_count() if cuda_available else 0
    return {
        "cuda_available": cuda_available,
        "device_count": device_count,
        "device_names": [torch.cuda.get_device_name(index) for index in range(device_count)],
        "bf16_supported": bool(cuda_available and torch.cuda.is_bf16_supported()),
        "cpu_bf16_supported": cpu_bf16_supported(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
    }
