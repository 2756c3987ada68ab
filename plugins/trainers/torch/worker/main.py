"""Starts the distill trainer worker: ``python main.py`` or ``torchrun ... main.py --request FILE``.

A file rather than ``python -m`` so that torchrun, which runs a script path, starts it the same way.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def wants_spinning(arguments):
    """The `spinning` option of a request file given as `--request FILE` (read before torch loads)."""
    if "--request" not in arguments or arguments.index("--request") + 1 >= len(arguments):
        return False
    try:
        with open(arguments[arguments.index("--request") + 1], encoding="utf-8") as handle:
            request = json.load(handle)
        return request["request"]["options"].get("spinning") is True
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # the worker reports a bad request file itself, with its reasons


# Before torch loads OpenMP, and only where the environment does not choose: idle OpenMP threads
# sleep (PASSIVE) unless the request asks for `spinning`. Measured on 2 cores: with another busy
# process, spinning threads ran a T5 step 3-20x slower than sleeping ones; alone on the machine,
# spinning ones ran it 1.5x faster (see docs/trainer-protocol.md, "Measurements"). The TypeScript
# plugin sets the variable from the option when it starts the worker.
os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE" if wants_spinning(sys.argv[1:]) else "PASSIVE")

from distill_worker.cli import main  # noqa: E402 - OMP_WAIT_POLICY must be set above, before this import loads torch

if __name__ == "__main__":
    sys.exit(main())
