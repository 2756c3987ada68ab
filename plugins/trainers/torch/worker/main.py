"""Starts the distill trainer worker: ``python main.py`` or ``torchrun ... main.py --request FILE``.

A file rather than ``python -m`` so that torchrun, which runs a script path, starts it the same way.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


from distill_worker import wait_policy  # imports no torch: OpenMP is chosen below, before torch loads


def requested_options(arguments):
    """The options of a request file given as `--request FILE` (read before torch loads); {} without one."""
    if "--request" not in arguments or arguments.index("--request") + 1 >= len(arguments):
        return {}
    try:
        with open(arguments[arguments.index("--request") + 1], encoding="utf-8") as handle:
            options = json.load(handle)["request"]["options"]
        return options if isinstance(options, dict) else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # the worker reports a bad request file itself, with its reasons


# Before torch loads OpenMP: whether its idle threads spin or sleep (`spinning`: true, false or
# auto, the default; $OMP_WAIT_POLICY wins). See distill_worker/wait_policy.py for the measurements.
# Over the stdin protocol the request comes after torch loads: the plugin sets the option in the
# environment instead.
_options = requested_options(sys.argv[1:])
_threads = _options.get("threads")
wait_policy.apply(
    _options.get("spinning", wait_policy.option_from(os.environ.get(wait_policy.OPTION_VARIABLE))),
    _threads if isinstance(_threads, int) and not isinstance(_threads, bool) else None,
)

from distill_worker.cli import main  # noqa: E402 - OMP_WAIT_POLICY must be set above, before this import loads torch

if __name__ == "__main__":
    sys.exit(main())
