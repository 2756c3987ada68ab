"""The JSON-lines protocol every Python program of distill speaks (docs/trainer-protocol.md, "The envelope").

One JSON object per line on stdout, each with a string ``type``: ``hello`` first (protocol version,
program, pid, package versions), then the program's own events, and last ``done`` or ``error``.
A mistake of the user is an ``error`` of kind ``user`` (or ``output``) with a message and a fix and
exit status 2; anything else is a bug: kind ``internal`` with the traceback, exit status 1.

This file exists twice, byte for byte: ``plugins/trainers/torch/worker/distill_worker/line_protocol.py``
and ``plugins/exporters/onnx/python/line_protocol.py`` (a test compares them). Copies rather than one
shared package, because each program runs alone under plain ``python`` (the worker copied to a GPU
machine without the rest of distill) and a plugin never reaches into another plugin's folder. It
therefore imports nothing but the standard library and nothing relative.
"""

import atexit
import json
import math
import os
import platform
import sys
import threading
import traceback
from importlib import metadata

PROTOCOL_VERSION = 1

_protocol_stream = None
_write_lock = threading.Lock()
_emitting = True


class ProtocolError(Exception):
    """The other side sent something the protocol does not allow; reported as a user error."""


class UserMistake(Exception):
    """A mistake in what the user gave the program: reported with a message and a fix, never a traceback."""

    kind = "user"

    def __init__(self, message, fix=None):
        super().__init__(message)
        self.fix = fix


class OutputFolderError(UserMistake):
    """The output folder holds what the program will not use: a damaged checkpoint, a link leading elsewhere.

    Training from scratch in a fresh folder is the way out; the TypeScript side names that fix.
    """

    kind = "output"


def reserve_stdout():
    """Keeps the real stdout for protocol lines and points ``sys.stdout`` at stderr.

    Libraries that print (tqdm, transformers' hints, torch.onnx) then write to stderr, which the
    TypeScript side keeps as a tail for error messages, and cannot corrupt the protocol stream.
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
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def emit(event_type, **fields):
    """Writes one protocol line and flushes it at once."""
    if not _emitting:
        return
    stream = reserve_stdout()
    line = json.dumps(_clean({"type": event_type, **fields}), separators=(",", ":"))
    with _write_lock:
        try:
            stream.write(line + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader is gone (distill died): keep going so that a cancel path can still checkpoint.
            set_emitting(False)


def read_message(stream=None):
    """The next JSON message from stdin; None at the end of input.

    A line that is not a JSON object with a string ``type`` raises :class:`ProtocolError`.
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
            raise ProtocolError(f'malformed request line (expected an object with a "type"): {line[:200]}')
        return message


def package_versions(names):
    """Python's version and each named package's installed version (None when it is not installed).

    Read from the installed metadata, without importing anything: cheap, and it works for a package
    that would fail to import.
    """
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def say_hello(program, versions, **fields):
    """The handshake: the first line every program writes."""
    emit("hello", protocol=PROTOCOL_VERSION, program=program, pid=os.getpid(), versions=versions, **fields)


def run_reporting_errors(body):
    """Runs ``body()`` (which returns the exit status) and reports how it failed as the last line.

    A :class:`UserMistake` or :class:`ProtocolError` becomes an ``error`` of the mistake's kind with
    its fix and no traceback (exit status 2); any other exception is a bug: an ``error`` of kind
    ``internal`` with the traceback (exit status 1).
    """
    try:
        return body()
    except UserMistake as mistake:
        emit("error", kind=mistake.kind, message=str(mistake), fix=mistake.fix, traceback=None)
        return 2
    except ProtocolError as error:
        emit("error", kind="user", message=str(error), fix=None, traceback=None)
        return 2
    except Exception as error:  # noqa: BLE001 - every failure must reach the other side as an event
        emit("error", kind="internal", message=f"{type(error).__name__}: {error}", fix=None, traceback=traceback.format_exc())
        return 1
