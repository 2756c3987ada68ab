"""Starts the distill trainer worker: ``python main.py`` or ``torchrun ... main.py --request FILE``.

A file rather than ``python -m`` so that torchrun, which runs a script path, starts it the same way.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. Measured on 2 cores
# shared with other jobs, 2 spinning threads ran a tiny T5 9x slower than 1 thread; passive ones
# ran as fast as 1 thread there (see docs/trainer-protocol.md, "Measurements").
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from distill_worker.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
