"""Entry point: the stdio protocol (driven by distill), or a request file (alone, under torchrun).

    python main.py                         # hello, then read `train` / `cancel` lines from stdin
    python main.py --request request.json  # hello, then train on the request in the file
    torchrun --nproc_per_node 2 main.py --request request.json

Exit status: 0 when training completed, stopped early or was cancelled cleanly; 2 for a
mistake in the request (an `error` event with kind "user") or an output folder the worker will
not use (kind "output": no sound checkpoint left, a link leading elsewhere); 1 for anything else
(an `error` event with the Python traceback). See line_protocol.py for the conventions every
Python program of distill shares.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import warnings

from .line_protocol import PROTOCOL_VERSION, ProtocolError, emit, read_message, reserve_stdout, run_reporting_errors, say_hello


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


def _read_request(request_file, flag):
    """The train request from the file, or from stdin after the handshake; None when cancelled before one came."""
    if request_file:
        with open(request_file, encoding="utf-8") as handle:
            message = json.load(handle)
        return _unwrap_train_message(message) if message.get("type") == "train" else message
    message = read_message()
    if message is None or message["type"] == "cancel":
        return None
    request = _unwrap_train_message(message)
    _watch_stdin(flag)
    return request


def _serve(request_file):
    """Handshake, request, training; returns the exit status."""
    from .capabilities import device_capabilities, worker_versions
    from .options import check_request
    from .training_loop import TrainingRun

    if int(os.environ.get("RANK", "0")) == 0:
        say_hello("distill-worker", worker_versions(), capabilities=device_capabilities())
    flag = CancelFlag()
    request = _read_request(request_file, flag)
    if request is None:
        # A cancel (or the end of input) before any request: nothing to train, nothing to checkpoint.
        emit("done", status="cancelled", steps=0, checkpoint=None, best_step=None, validation_accuracy=None, test_accuracy=None)
        return 0
    request = check_request(request)
    # Only now: before a request there is nothing to checkpoint, and SIGINT/SIGTERM should end
    # the process at once rather than set a flag no training loop will read.
    _install_signal_handlers(flag)
    TrainingRun(request, flag).run()
    return 0


def main(argv=None):
    """Runs the worker; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="distill-worker", description=f"distill trainer worker (protocol {PROTOCOL_VERSION})")
    parser.add_argument("--request", help="train on this request file instead of reading the protocol from stdin")
    arguments = parser.parse_args(argv)

    reserve_stdout()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    warnings.simplefilter("default")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run_reporting_errors(lambda: _serve(arguments.request))
