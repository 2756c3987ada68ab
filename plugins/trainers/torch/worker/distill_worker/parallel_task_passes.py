"""Both task passes of a micro-batch at once, each on its own share of the CPU threads (option `parallel_task_passes`).

With `separate` task passes a step is two forward-and-backward passes, `predict:` then `explain:`. A small
student's operators are too small for a second OpenMP thread to help much (many fall below PyTorch's
parallel grain, and the rest wait for each other between operators): at d_model 256, batch 16, the
worker stepped only 1.30x faster on two threads than on one. Two passes on one thread each keep both
cores busy for the whole step instead: the `predict:` pass runs on a helper thread while this thread runs
`explain:`, and the optimizer step runs on all the threads again. Measured on 2 cores, d_model 256, batch
16 (bench/trainer/worker_speed_check.py, 3 interleaved runs of 25 steps): 4.00 → 5.31 steps/s, 1.33x; the
trainer bench 1.24x at batch 16 and 1.19x at 32 (see docs/trainer-protocol.md, "Parallel task passes"). The
price is memory: both passes' activations are alive at once.

The same gradients, and a seeded run still repeats itself:

- Each parameter's gradient is the sum of the two passes', added in whichever order the passes end:
  with one micro-batch a step that is `a + b` or `b + a`, the same float. With several micro-batches
  the order would change the rounding of the running sum, so gradient accumulation runs the passes one
  after the other.
- The helper's dropout masks come from a generator of its own, seeded from torch's default generator on
  this thread before the helper starts (:func:`fused_kernels.drawing_from`); this thread's pass draws from
  the default generator as before. So every draw follows from the seed, and a checkpoint's saved random
  state resumes the run. That needs every draw to be a ``fused_kernels`` mask: :func:`choose` turns the
  passes off where any other dropout is left.
"""

import concurrent.futures

import torch

from .fused_kernels import drawing_from, draws_only_random_bits


def thread_shares(threads):
    """(this thread's, the helper's) shares of `threads`: the helper half, rounded down; this thread runs the longer pass."""
    return threads - threads // 2, threads // 2


def choose(option, placement, threads, model, fused_kernels, task_passes, with_rationale, gradient_accumulation):
    """(on, reason): whether a run's task passes run at once, and why, in words (the `started` event's `task_pass_policy`)."""
    if not option:
        return False, "option `parallel_task_passes: false`"
    reasons = (
        (placement.device.type != "cpu", "off: not on a CPU"),
        (placement.distributed, "off: DDP runs one pass at a time"),
        (threads < 2, "off: one thread"),
        (not with_rationale, "off: one task (no rationales)"),
        (task_passes != "separate", "off: one joint pass (`task_passes: joint`)"),
        (gradient_accumulation > 1, "off: gradient accumulation (the passes' sums would round in either order)"),
        (fused_kernels is None, "off: needs `fused_kernels` (a T5 student's dropout drawn per thread)"),
    )
    for applies, reason in reasons:
        if applies:
            return False, reason
    if not draws_only_random_bits(model):
        return False, "off: a dropout other than fused_kernels' would draw from the shared generator"
    if fused_kernels["sparse_embeddings"] and model.get_input_embeddings().weight is not model.get_output_embeddings().weight:
        return False, "off: untied embeddings' sparse gradients would be summed in either order"
    own, helper = thread_shares(threads)
    return True, f"on: {own} + {helper} threads"


class ParallelTaskPasses:
    """Runs two passes at once: one on a helper thread, one here, with their :func:`thread_shares` of `threads`."""

    def __init__(self, threads):
        self.threads = threads
        self.own_threads, self.helper_threads = thread_shares(threads)
        # Threads OpenMP counts are per thread: the helper sets its own once, this thread its own per step.
        self.helper = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="distill-task-pass", initializer=torch.set_num_threads, initargs=(self.helper_threads,)
        )
        self.generator = torch.Generator()

    def run(self, helper_pass, own_pass):
        """Runs `helper_pass()` on the helper thread while `own_pass()` runs here; returns both results, in that order.

        Waits for the helper even when `own_pass` fails, so that no pass is still adding to the
        gradients when this returns or raises.
        """
        # Drawn here, before the helper starts: the same seed at the same point of the default stream on every run.
        self.generator.manual_seed(int(torch.randint(2**62, ())))

        def on_helper():
            with drawing_from(self.generator):
                return helper_pass()

        future = self.helper.submit(on_helper)
        torch.set_num_threads(self.own_threads)
        try:
            own = own_pass()
        except BaseException:
            concurrent.futures.wait([future])
            raise
        finally:
            torch.set_num_threads(self.threads)
        return future.result(), own

    def close(self):
        """Ends the helper thread."""
        self.helper.shutdown(wait=True)
