"""Training state on disk: everything a resumed run needs to continue exactly, and nothing that runs code.

Model, optimizer and scheduler state, the Python, NumPy, torch and CUDA random states, the
data position (epoch and batch index; the epoch's order is rebuilt from the seed), and the
model-selection state (best accuracy, evaluations without improvement).

A run folder can be damaged (a full disk, a copy cut short) or tampered with, so:

- the state holds only tensors and plain values (NumPy's key array travels as a tensor) and is
  read with ``torch.load(weights_only=True)``, which refuses to build any other object: a planted
  pickle cannot run code;
- ``position.json`` records the SHA-256 and size of ``training-state.pt``, checked before loading;
- two checkpoints are kept, ``last`` and ``previous``. Each is written into a fresh folder and
  renamed into place, and the older one is removed only once the newer one is complete, so a
  kill -9 at any moment leaves at least one complete checkpoint. A damaged ``last`` gives way to
  ``previous`` (and is moved to ``damaged`` at the next save); with none left the run stops with
  an :class:`OutputFolderError`.
"""

import hashlib
import json
import os
import random
import re

import torch

from .line_protocol import OutputFolderError, emit
from .safe_files import create_file, fresh_directory, inside, remove, write_json

STATE_FILE = "training-state.pt"
POSITION_FILE = "position.json"
# position.json holds a handful of numbers: anything bigger is not ours.
MAXIMUM_POSITION_BYTES = 64 * 1024


def random_states():
    """The random generators' states of this process, as tensors and plain values only."""
    states = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy

        name, keys, position, has_gauss, cached_gaussian = numpy.random.get_state()
        # An ndarray would need NumPy's unpickling hooks; its 624 uint32 keys fit an int64 tensor exactly.
        states["numpy"] = (name, torch.from_numpy(keys.astype(numpy.int64)), position, has_gauss, cached_gaussian)
    except ImportError:
        pass
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states):
    """Puts the random generators back where a checkpoint left them."""
    random.setstate(states["python"])
    torch.set_rng_state(states["torch"])
    if "numpy" in states:
        import numpy

        name, keys, position, has_gauss, cached_gaussian = states["numpy"]
        numpy.random.set_state((name, keys.numpy().astype(numpy.uint32), position, has_gauss, cached_gaussian))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def file_sha256(path):
    """The SHA-256 of a file, read in blocks so a large checkpoint does not sit in memory twice."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DamagedCheckpoint(Exception):
    """A checkpoint that cannot be used: which file, and why."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _load_refusal(error):
    """What a torch.load failure says was wrong, without its advice on how to load the file unsafely."""
    found = re.search(r"GLOBAL ([\w.]+)", str(error))
    if found:
        return f"its pickle asks for {found.group(1)}, which no checkpoint holds"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines or [type(error).__name__])[0].split(". ")[0].rstrip(".")


def read_checkpoint(root, directory):
    """The training state in checkpoint folder `directory`, checked against its checksum and loaded safely.

    Raises :class:`DamagedCheckpoint` for anything short of a sound checkpoint, and
    :class:`OutputFolderError` for a folder that leads outside the output folder `root`.
    """
    position_path = inside(root, os.path.join(directory, POSITION_FILE))
    state_path = inside(root, os.path.join(directory, STATE_FILE))
    if not os.path.isfile(position_path):
        raise DamagedCheckpoint(position_path, "missing")
    if os.path.getsize(position_path) > MAXIMUM_POSITION_BYTES:
        raise DamagedCheckpoint(position_path, f"larger than {MAXIMUM_POSITION_BYTES} bytes")
    try:
        with open(position_path, encoding="utf-8") as handle:
            position = json.load(handle)
    except (ValueError, UnicodeDecodeError) as error:
        raise DamagedCheckpoint(position_path, f"not JSON: {error}") from None
    expected = position.get("sha256") if isinstance(position, dict) else None
    if not isinstance(expected, str):
        raise DamagedCheckpoint(position_path, "no SHA-256 of the training state: written by an older worker, or not by one")
    if not os.path.isfile(state_path):
        raise DamagedCheckpoint(state_path, "missing")
    size = os.path.getsize(state_path)
    if size != position.get("bytes"):
        raise DamagedCheckpoint(state_path, f"{size} bytes where {position.get('bytes')} were written: truncated or changed")
    actual = file_sha256(state_path)
    if actual != expected:
        raise DamagedCheckpoint(state_path, f"SHA-256 {actual} where {expected} was written: changed after writing")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - the checksum held, so whatever fails here is in the file itself
        raise DamagedCheckpoint(state_path, f"cannot be loaded as plain tensors and values: {_load_refusal(error)}") from None
    if not isinstance(state, dict) or state.get("step") != position.get("step"):
        raise DamagedCheckpoint(state_path, "not the training state its position.json describes")
    return state


class Checkpoints:
    """The training checkpoints of one output folder: `checkpoints/last` and the one before it, `previous`."""

    def __init__(self, output):
        self.output = output
        self.directory = os.path.join(output, "checkpoints")
        self.last = os.path.join(self.directory, "last")
        self.previous = os.path.join(self.directory, "previous")
        self.damaged = os.path.join(self.directory, "damaged")
        # Cleared when `last` failed its checks at resume: the next save must not keep it as `previous`.
        self._last_is_sound = True

    def save(self, state):
        """Writes `state` (a dict of tensors and plain values) as `last`; the old `last` becomes `previous`."""
        temporary = fresh_directory(self.output, self.last + ".tmp")
        state_path = os.path.join(temporary, STATE_FILE)
        with create_file(self.output, state_path) as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        write_json(
            self.output,
            os.path.join(temporary, POSITION_FILE),
            {
                **{key: state[key] for key in ("step", "epoch", "batch_index")},
                "sha256": file_sha256(state_path),
                "bytes": os.path.getsize(state_path),
            },
        )
        # Until the last rename one complete checkpoint stands: `last` while `previous` goes, then
        # `previous` (the old `last`) while the new one moves in.
        if os.path.lexists(inside(self.output, self.last)):
            if self._last_is_sound:
                remove(self.output, self.previous)
                os.rename(self.last, self.previous)
            else:
                # Kept for a look, out of the way: it is never loaded again.
                remove(self.output, self.damaged)
                os.rename(self.last, self.damaged)
        os.rename(temporary, self.last)
        self._last_is_sound = True

    def remove(self):
        """Removes every checkpoint (a run that starts from scratch)."""
        remove(self.output, self.directory)

    def resume(self, apply):
        """Applies the newest sound checkpoint with `apply(state)` and returns its state; None when there is none.

        A damaged checkpoint (or one `apply` cannot use) gives way to the one before it, with a
        `checkpoint_damaged` event; when none is left, an :class:`OutputFolderError` names each.
        """
        damaged = []
        for directory in (self.last, self.previous):
            if not os.path.lexists(directory):
                continue
            try:
                state = read_checkpoint(self.output, directory)
                try:
                    apply(state)
                except Exception as error:  # noqa: BLE001 - any mismatch with this model makes the file unusable
                    # load_state_dict lists every missing key: the start says enough.
                    detail = f"{type(error).__name__}: {error}"[:300]
                    raise DamagedCheckpoint(os.path.join(directory, STATE_FILE), f"does not fit this run: {detail}") from None
            except DamagedCheckpoint as error:
                damaged.append(error)
                if directory == self.last:
                    self._last_is_sound = False
                continue
            for error in damaged:
                emit(
                    "checkpoint_damaged",
                    path=error.path,
                    reason=error.reason,
                    resumed_from=directory,
                    step=state["step"],
                    message=f"checkpoint {error.path} is damaged ({error.reason}): resuming from {directory} (step {state['step']})",
                )
            return state
        if damaged:
            raise OutputFolderError(
                "no sound checkpoint to resume from: " + "; ".join(f"{error.path} is damaged ({error.reason})" for error in damaged)
            )
        return None
