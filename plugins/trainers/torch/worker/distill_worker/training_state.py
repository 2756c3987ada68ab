"""Where a training run stands: saved with every checkpoint, restored on resume."""

from dataclasses import asdict, dataclass, fields


@dataclass
class TrainingState:
    """The data position and the model-selection state of a run.

    The epoch's batch order is rebuilt from the seed, so the step, epoch and batch index are all a
    resumed run needs to continue where the checkpoint left off; the selection state makes it choose
    the same best model and stop early at the same validation as an uninterrupted run.
    """

    step: int = 0
    epoch: int = 0
    batch_index: int = 0
    best_accuracy: float | None = None
    best_step: int | None = None
    evaluations_without_improvement: int = 0
    stopped_early: bool = False

    def as_checkpoint(self):
        """The fields as plain values, in declaration order (the keys a checkpoint holds)."""
        return asdict(self)

    def restore(self, saved):
        """Takes every field from a loaded checkpoint."""
        for field in fields(self):
            setattr(self, field.name, saved[field.name])

    def record_validation(self, accuracy):
        """Counts a validation; returns whether it is the new best (ties keep the earlier checkpoint)."""
        if self.best_accuracy is None or accuracy > self.best_accuracy:
            self.best_accuracy = accuracy
            self.best_step = self.step
            self.evaluations_without_improvement = 0
            return True
        self.evaluations_without_improvement += 1
        return False
