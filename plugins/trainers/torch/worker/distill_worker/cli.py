"""Entry point: the stdio protocol (driven by distill), or a request file (alone, under torchrun).

    python main.py                         # hello, then read `train` / `cancel` lines from stdin
    python main.py --request request.json  # hello, then train on the request in the file
    torchrun --nproc_per_node 2 main.py --request request.json

Exit status: 0 when training completed, stopped early or was cancelled cleanly; 2 for a
mistake in the request (an `error` event with kind "user") or an output folder the worker will
not use (kind "output": no sound checkpoint left, a link leading elsewhere); 1 for anything else
(an `error` event with the Python traceback).
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import traceback
import warnings

from .protocol import PROTOCOL_VERSION, OutputFolderError, ProtocolError, UserFacingError, emit, read_message, reserve_stdout


class CancelFlag:
    """Set by a `cancel` line, SIGINT, SIGTERM or the end of stdin; read once per step."""

    def __init__(self):
        self._event = threading.Event()
        self.reason = None

    def set(self, reason):
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def __call__(self):
        return self._event.is_set()


def _install_signal_handlers(flag):
    def handler(number, _frame):
        flag.set(signal.Signals(number).name)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _watch_stdin(flag):
    """Reads `cancel` lines while training runs; the parent closing stdin also cancels, so no orphan trains on."""

    def watch():
        try:
            while True:
                message = read_message()
                if message is None:
                    flag.set("stdin closed")
                    return
                if message["type"] == "cancel":
                    flag.set("cancel request")
                    return
                emit("warning", message=f"ignored a {message['type']!r} message while training")
        except ProtocolError as error:
            emit("warning", message=str(error))

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def _unwrap_train_message(message):
    """The request of a `train` message; protocol mismatches are refused before any work."""
    if message.get("type") != "train":
        raise ProtocolError(f"expected a `train` message, got {message.get('type')!r}")
    protocol = message.get("protocol")
    if protocol != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol mismatch: the request speaks protocol {protocol!r}, this worker speaks {PROTOCOL_VERSION}; "
            "use the worker that ships with your distill version"
        )
    return message.get("request")


def main(argv=None):
    """Runs the worker; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="distill-worker", description="distill trainer worker (protocol 1)")
    parser.add_argument("--request", help="train on this request file instead of reading the protocol from stdin")
    arguments = parser.parse_args(argv)

    reserve_stdout()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    warnings.simplefilter("default")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    is_main_rank = int(os.environ.get("RANK", "0")) == 0
    flag = CancelFlag()
    try:
        from .capabilities import hello_fields
        from .options import check_request
        from .training_loop import TrainingRun

        if is_main_rank:
            emit("hello", **hello_fields())
        if arguments.request:
            with open(arguments.request, encoding="utf-8") as handle:
                message = json.load(handle)
            request = _unwrap_train_message(message) if message.get("type") == "train" else message
        else:
            message = read_message()
            if message is None or message["type"] == "cancel":
                emit("done", status="cancelled", steps=0, checkpoint=None, best_step=None,
                     validation_accuracy=None, test_accuracy=None)
                return 0
            request = _unwrap_train_message(message)
            _watch_stdin(flag)
        request = check_request(request)
        # Only now: before a request there is nothing to checkpoint, and SIGINT/SIGTERM should end
        # the process at once rather than set a flag no training loop will read.
        _install_signal_handlers(flag)
        TrainingRun(request, flag).run()
        return 0
    except OutputFolderError as error:
        emit("error", kind="output", message=str(error), traceback=None)
        return 2
    except (UserFacingError, ProtocolError) as error:
        emit("error", kind="user", message=str(error), traceback=None)
        return 2
    except Exception as error:  # noqa: BLE001 - every failure must reach the other side as an event
        emit("error", kind="internal", message=f"{type(error).__name__}: {error}", traceback=traceback.format_exc())
        return 1
