"""``metrics.jsonl``: per-step metrics of a run, so that loss curves of runs can be compared."""

import json
import os

from .safe_files import append_text, inside, remove, write_file


class MetricsFile:
    """Per-step metrics as JSON Lines in the output folder `root` (rank 0 only)."""

    def __init__(self, root, enabled):
        self.root = root
        self.path = os.path.join(root, "metrics.jsonl")
        self.enabled = enabled

    def truncate_after(self, step):
        """Keeps the lines up to `step` (a resumed run rewrites what came after its checkpoint)."""
        if not self.enabled or not os.path.isfile(inside(self.root, self.path)):
            return
        kept = []
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by kill -9
                # The test split is scored again at the end of the resumed run.
                if record.get("step", 0) <= step and record.get("split") != "test":
                    kept.append(json.dumps(record))
        write_file(self.root, self.path, "".join(line + "\n" for line in kept))

    def remove(self):
        """Starts the file over (a run that does not resume)."""
        if self.enabled:
            remove(self.root, self.path)

    def write(self, record):
        """Appends one record."""
        if self.enabled:
            append_text(self.root, self.path, json.dumps(record) + "\n")
