"""Protocol lines: one JSON object per line on stdout, nothing else ever goes there.

Python warnings and logging are routed to stderr (see :func:`reserve_stdout`), so a
stray ``print`` in a library cannot corrupt the stream the TypeScript side parses.
"""

import atexit
import json
import math
import os
import sys
import threading

PROTOCOL_VERSION = 1

_protocol_stream = None
_write_lock = threading.Lock()
_emitting = True


def reserve_stdout():
    """Keeps the real stdout for protocol lines and points ``sys.stdout`` at stderr.

    Libraries that print (tqdm, transformers' hints) then write to stderr, which the
    TypeScript side keeps as a tail for error messages.
    """
    global _protocol_stream
    if _protocol_stream is None:
        _protocol_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
        atexit.register(_protocol_stream.close)
        sys.stdout = sys.stderr
    return _protocol_stream


def set_emitting(enabled):
    """Only rank 0 of a distributed run speaks; the other ranks stay silent."""
    global _emitting
    _emitting = enabled


def _clean(value):
    """JSON has no NaN or infinity: they become null rather than an invalid line."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    return value


def emit(event_type, **fields):
    """Writes one protocol event line and flushes it at once."""
    if not _emitting:
        return
    stream = reserve_stdout()
    line = json.dumps(_clean({"type": event_type, **fields}), separators=(",", ":"))
    with _write_lock:
        try:
            stream.write(line + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader is gone (distill died): keep going so the cancel path can checkpoint.
            set_emitting(False)


def read_message(stream=None):
    """Reads the next JSON message from stdin; None at end of input.

    A line that is not a JSON object raises :class:`ProtocolError`.
    """
    stream = stream or sys.stdin
    while True:
        line = stream.readline()
        if line == "":
            return None
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError as error:
            raise ProtocolError(f"malformed request line (not JSON: {error.msg}): {line[:200]}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError(f"malformed request line (expected an object with a \"type\"): {line[:200]}")
        return message


class ProtocolError(Exception):
    """The other side sent something the protocol does not allow."""


class UserFacingError(Exception):
    """A mistake in the request (bad option, missing folder): reported without a traceback."""


class OutputFolderError(Exception):
    """The output folder holds what the worker will not use: a damaged checkpoint, a link leading elsewhere.

    Reported as an `error` of kind ``output``, without a traceback: training from scratch in a
    fresh folder (a request with ``resume: false``) is the way out.
    """
