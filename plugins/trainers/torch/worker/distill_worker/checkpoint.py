"""Training state on disk: everything a resumed run needs to continue exactly.

Model, optimizer and scheduler state, the Python, NumPy, torch and CUDA random states, the
data position (epoch and batch index; the epoch's order is rebuilt from the seed), and the
model-selection state (best accuracy, evaluations without improvement). Written to a
temporary folder and renamed, so a kill -9 during the write leaves the previous checkpoint
intact.
"""

import json
import os
import random
import shutil

import torch

STATE_FILE = "training-state.pt"


def random_states():
    """The random generators' states of this process."""
    states = {"python": random.getstate(), "torch": torch.get_rng_state()}
    try:
        import numpy

        states["numpy"] = numpy.random.get_state()
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

        numpy.random.set_state(states["numpy"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def replace_directory(temporary, final):
    """Moves a finished folder into place, replacing the old one with as small a window as possible."""
    old = final + ".old"
    if os.path.isdir(old):
        shutil.rmtree(old)
    if os.path.isdir(final):
        os.rename(final, old)
    os.rename(temporary, final)
    if os.path.isdir(old):
        shutil.rmtree(old)


def save_training_state(directory, state):
    """Writes `state` (a dict of tensors and plain values) as the latest checkpoint in `directory`."""
    temporary = directory + ".tmp"
    if os.path.isdir(temporary):
        shutil.rmtree(temporary)
    os.makedirs(temporary)
    torch.save(state, os.path.join(temporary, STATE_FILE))
    with open(os.path.join(temporary, "position.json"), "w", encoding="utf-8") as handle:
        json.dump({key: state[key] for key in ("step", "epoch", "batch_index")}, handle)
    replace_directory(temporary, directory)


def load_training_state(directory):
    """The latest checkpoint in `directory`, or None when there is none.

    A crash between the two renames of :func:`replace_directory` leaves only `.old`, which is
    then the latest complete checkpoint.
    """
    for candidate in (directory, directory + ".old"):
        path = os.path.join(candidate, STATE_FILE)
        if os.path.isfile(path):
            return torch.load(path, map_location="cpu", weights_only=False)
    return None
