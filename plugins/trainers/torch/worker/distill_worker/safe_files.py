"""Writing into the output folder: never through a link, never outside the folder.

A run folder may be copied, unpacked or shared, and a link planted in it would make the worker
write wherever the link points (a file of the user's, a shell start-up file). So every write of
the worker goes through this module:

- the path must resolve inside the output folder, and the output folder must not itself be a
  link; otherwise an :class:`OutputFolderError` names the path and where it leads;
- a file is written under a fresh name opened with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and renamed
  over its final name, so a link standing at the final name is replaced, never followed (and a
  kill -9 leaves the old file or the new one, never half of one); appends open with ``O_NOFOLLOW``;
- a folder that a library fills (``save_pretrained``, a checkpoint) is created fresh (``mkdir``
  fails on anything already there, a link included) and renamed into place.
"""

import errno
import json
import os
import shutil

from .line_protocol import OutputFolderError

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def inside(root, path):
    """`path`, once checked to resolve inside the output folder `root` (which must not be a link)."""
    if os.path.islink(root):
        raise OutputFolderError(
            f"the output folder {root} is a symbolic link (to {os.path.realpath(root)}); the trainer writes only into a real folder"
        )
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        link = _first_link(root, path)
        raise OutputFolderError(
            f"{link} is a link to {os.path.realpath(link)}, outside the output folder {root}; "
            "the trainer does not write through links that lead elsewhere"
        )
    return path


def _first_link(root, path):
    """The first link on the way from `root` down to `path` (`path` itself when there is none)."""
    current = root
    for part in os.path.relpath(path, root).split(os.sep):
        current = os.path.join(current, part)
        if os.path.islink(current):
            return current
    return path


def refuse_outside_links(root):
    """Checks, before any work, that no link in the output folder leads outside it.

    Every write checks its own path too; this finds a planted link at once rather than when
    training reaches the file (a `best/` written only at the end).
    """
    for folder, folders, files in os.walk(inside(root, root)):
        for name in folders + files:
            if os.path.islink(os.path.join(folder, name)):
                inside(root, os.path.join(folder, name))


def _refuse_link(path, error):
    """An OSError of an O_NOFOLLOW open, as the error that says which link was refused."""
    if error.errno == errno.ELOOP:
        raise OutputFolderError(f"{path} is a symbolic link; the trainer does not write through links") from None
    raise error


def create_file(root, path):
    """A new binary file at `path` opened for writing; fails if anything (a link included) is there."""
    try:
        descriptor = os.open(inside(root, path), _NEW_FILE, 0o644)
    except OSError as error:
        _refuse_link(path, error)
    return os.fdopen(descriptor, "wb")


def write_file(root, path, content):
    """Replaces `path` with `content` (str or bytes) through a fresh temporary file and a rename."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    inside(root, path)
    temporary = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        with create_file(root, temporary) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def write_json(root, path, value, indent=2):
    """Replaces `path` with `value` as JSON."""
    write_file(root, path, json.dumps(value, indent=indent))


def append_text(root, path, text):
    """Appends `text` to `path` (created when missing); a link at `path` is refused."""
    try:
        descriptor = os.open(inside(root, path), _APPEND, 0o644)
    except OSError as error:
        _refuse_link(path, error)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(text)


def remove(root, path):
    """Removes a file, a link (not what it points to) or a folder at `path`, if any."""
    inside(root, os.path.dirname(path))
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def make_directories(root, path):
    """Creates `path` and its parents inside the output folder."""
    os.makedirs(inside(root, path), exist_ok=True)
    return path


def fresh_directory(root, path):
    """An empty folder at `path` made by this process: whatever stood there (a link included) is removed first."""
    make_directories(root, os.path.dirname(path))
    remove(root, inside(root, path))
    os.mkdir(path)
    return path


def replace_directory(root, temporary, final):
    """Moves a finished folder into place, replacing the old one with as small a window as possible.

    A kill -9 between the two renames leaves only `final.old` (a window of one rename).
    """
    old = final + ".old"
    remove(root, old)
    if os.path.lexists(inside(root, final)):
        os.rename(final, old)
    os.rename(temporary, final)
    remove(root, old)
