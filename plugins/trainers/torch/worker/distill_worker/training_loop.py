"""The training run: data, student, optimisation, evaluation, checkpoints, resume, the final test."""

import json
import math
import os
import random
import time

import torch

from .checkpoint import Checkpoints, random_states, restore_random_states
from .data import encode_examples, epoch_batches, read_examples
from .distributed import place, shut_down, wrap_model
from .evaluation import evaluate
from .metrics import scorer
from .multitask_loss import backward_micro_batch, count_tokens
from .protocol import UserFacingError, emit, set_emitting
from .safe_files import (
    append_text, fresh_directory, inside, make_directories, refuse_outside_links, remove, replace_directory, write_file, write_json,
)
from .student import build_student, save_model_folder


def seed_everything(seed):
    """Seeds Python, NumPy and torch (all devices)."""
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:
        pass


def alpha_at(schedule, step, total_steps):
    """α of 0-based step `step`: linear from start to end over the run."""
    if total_steps <= 1:
        return schedule["start"]
    return schedule["start"] + (schedule["end"] - schedule["start"]) * step / (total_steps - 1)


def make_scheduler(optimizer, options, total_steps):
    """Linear or cosine decay after linear warm-up, or a constant rate after warm-up."""
    from transformers import get_scheduler

    name = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}[options["schedule"]]
    return get_scheduler(name, optimizer, num_warmup_steps=options["warmup_steps"], num_training_steps=total_steps)


class MetricsFile:
    """Per-step metrics as JSON Lines in the output folder `root`, so that loss curves of runs can be compared."""

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
        """Appends one record (rank 0 only)."""
        if self.enabled:
            append_text(self.root, self.path, json.dumps(record) + "\n")


class TrainingRun:
    """One run of the worker, built from a checked train request."""

    def __init__(self, request, cancel_requested):
        self.request = request
        self.options = request["options"]
        self.cancel_requested = cancel_requested
        self.output = request["output_directory"]
        self.seed = int(request["seed"])

    def run(self):
        """Trains, evaluates and reports; returns the final status."""
        options = self.options
        if options["threads"]:
            torch.set_num_threads(options["threads"])
        placement = place(options)
        self.placement = placement
        set_emitting(placement.is_main)
        try:
            return self._run(placement)
        finally:
            shut_down(placement)

    def _log(self, record):
        """An event that also belongs in metrics.jsonl."""
        emit(record["type"], **{key: value for key, value in record.items() if key != "type"})
        self.metrics.write(record)

    def _run(self, placement):
        """Data, student, optimizer, resume, the step loop with validation and checkpoints, then the test."""
        started = time.time()
        options = self.options
        request = self.request
        make_directories(self.output, self.output)
        refuse_outside_links(self.output)
        self.metrics = MetricsFile(self.output, placement.is_main)
        data = request["data"]
        train_examples = read_examples(data["train"])
        if not train_examples:
            raise UserFacingError(f"no training examples in {data['train']}")
        validation_examples = read_examples(data["validation"]) if data.get("validation") else []
        test_examples = read_examples(data["test"]) if data.get("test") else []
        if options["eval_limit"]:
            validation_examples = validation_examples[: options["eval_limit"]]
        if not validation_examples:
            emit("warning", message="no validation examples: the last step's model is chosen, without model selection")

        seed_everything(self.seed)
        student = request["student"]
        texts = [text for example in train_examples for text in (example["input"], example["label"], example["rationale"]) if text]
        # Rank 0 trains the tokenizer; the others wait and load it.
        labels = [example["label"] for example in train_examples]
        if placement.is_main:
            model, tokenizer = build_student(student, texts, labels, self.output, self.seed)
        placement.barrier()
        if not placement.is_main:
            model, tokenizer = build_student(student, texts, labels, self.output, self.seed)
        max_input = int(student.get("max_input_length", 512))
        max_target = int(student.get("max_target_length", 128))
        # Saved with every model folder, so that inference elsewhere (Node, transformers.js) cuts inputs
        # and generation where training and evaluation here did, and scores the same.
        tokenizer.model_max_length = max_input
        getattr(model, "module", model).generation_config.max_new_tokens = options["generation_max_tokens"]
        encoded = encode_examples(train_examples, tokenizer, max_input, max_target)
        alpha = request["alpha"]
        with_rationale = not (alpha["start"] == 1 and alpha["end"] == 1)
        lengths = [
            max(len(item["predict"]), len(item["explain"]) if with_rationale else 0)
            + len(item["label"])
            + (len(item["rationale"]) if with_rationale else 0)
            for item in encoded
        ]

        model.to(placement.device)
        model.train()
        parameters = sum(parameter.numel() for parameter in model.parameters())
        trained = wrap_model(model, placement)
        # The fused kernel updates every parameter in one pass (CPU and CUDA); about 5% faster steps
        # at d_model 256 on a shared CPU (a noisy measurement). Hugging Face's trainer uses it by default.
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=options["learning_rate"], weight_decay=options["weight_decay"], fused=True
        )
        batch_size = options["batch_size"]
        accumulation = options["gradient_accumulation"]
        batches_per_epoch = len(
            epoch_batches(lengths, batch_size, self.seed, 0, options["bucket_batches"], placement.world_size, placement.rank)
        )
        if batches_per_epoch == 0:
            raise UserFacingError(
                f"{len(train_examples)} training examples make no batch of {batch_size} on {placement.world_size} processes"
            )
        steps_per_epoch = math.ceil(batches_per_epoch / accumulation)
        total_steps = options["max_steps"] or max(1, math.ceil(options["epochs"] * steps_per_epoch))
        scheduler = make_scheduler(optimizer, options, total_steps)
        score = scorer(request["metric"], options["ignore_case"], options["tolerance"])

        state = {
            "step": 0,
            "epoch": 0,
            "batch_index": 0,
            "best_accuracy": None,
            "best_step": None,
            "evaluations_without_improvement": 0,
            "stopped_early": False,
        }
        checkpoints = Checkpoints(self.output)
        best_directory = os.path.join(self.output, "best")
        resumed_from = None

        def apply(saved):
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            restore_random_states(saved["random"][placement.rank] if placement.rank < len(saved["random"]) else saved["random"][0])
            for key in state:
                state[key] = saved[key]

        if request["resume"] and checkpoints.resume(apply) is not None:
            resumed_from = state["step"]
            self.metrics.truncate_after(resumed_from)
        else:
            # Nothing to continue: lines of an earlier attempt go, and so do its checkpoints, which
            # would otherwise stand as `previous` to a fallback of this run.
            self.metrics.remove()
            if placement.is_main:
                checkpoints.remove()

        emit(
            "started",
            device=str(placement.device),
            world_size=placement.world_size,
            bf16=placement.bf16,
            threads=torch.get_num_threads(),
            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
            parameters=parameters,
            vocabulary=len(tokenizer),
            train_examples=len(train_examples),
            validation_examples=len(validation_examples),
            test_examples=len(test_examples),
            total_steps=total_steps,
            steps_per_epoch=steps_per_epoch,
            resumed_from_step=resumed_from,
            with_rationale=with_rationale,
        )

        def save_checkpoint(reason):
            # Every rank's random state travels in rank 0's file, so a resumed DDP run restores each.
            states = [random_states()]
            if placement.distributed:
                gathered = [None] * placement.world_size
                torch.distributed.all_gather_object(gathered, states[0])
                states = gathered
            if placement.is_main:
                checkpoints.save(
                    {
                        **state,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "random": states,
                        "seed": self.seed,
                    },
                )
                emit("checkpoint", step=state["step"], path=checkpoints.last, reason=reason)
            placement.barrier()

        def run_validation():
            improved = False
            if placement.is_main and validation_examples:
                accuracy, correct, _ = evaluate(
                    model, tokenizer, validation_examples, score, placement.device, max_input,
                    options["generation_max_tokens"], options["eval_batch_size"], placement.evaluation_autocast,
                )
                self._log({"type": "evaluation", "split": "validation", "step": state["step"], "accuracy": accuracy,
                           "correct": correct, "examples": len(validation_examples)})
                # Ties keep the earlier checkpoint: a later one must be strictly better.
                if state["best_accuracy"] is None or accuracy > state["best_accuracy"]:
                    state["best_accuracy"] = accuracy
                    state["best_step"] = state["step"]
                    state["evaluations_without_improvement"] = 0
                    improved = True
                    self._save_best(model, tokenizer, best_directory, state["step"], accuracy)
                    emit("checkpoint", step=state["step"], path=best_directory, reason="best")
                else:
                    state["evaluations_without_improvement"] += 1
            placement.barrier()
            return improved

        cancelled = False
        loop_started = time.time()
        first_step = state["step"]
        # Throughput counts training compute only, not evaluation or checkpoint writing.
        interval_tokens = 0
        interval_seconds = 0.0
        while state["step"] < total_steps and not state["stopped_early"]:
            batches = epoch_batches(lengths, batch_size, self.seed, state["epoch"], options["bucket_batches"],
                                    placement.world_size, placement.rank)
            while state["batch_index"] < len(batches) and state["step"] < total_steps:
                micro_batches = batches[state["batch_index"] : state["batch_index"] + accumulation]
                step_alpha = alpha_at(alpha, state["step"], total_steps)
                learning_rate = scheduler.get_last_lr()[0]
                totals = [0.0, 0.0, 0.0]
                step_started = time.time()
                for position, indices in enumerate(micro_batches):
                    batch = [encoded[index] for index in indices]
                    interval_tokens += count_tokens(batch, with_rationale)
                    losses = backward_micro_batch(
                        trained, batch, step_alpha, 1.0 / len(micro_batches), with_rationale, options["task_passes"],
                        tokenizer.pad_token_id, placement.device, placement.autocast,
                        sync=position == len(micro_batches) - 1,
                    )
                    for slot, value in enumerate(losses):
                        if value is not None:
                            totals[slot] += value / len(micro_batches)
                totals = placement.mean_across(totals)
                if options["max_grad_norm"] > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), options["max_grad_norm"])
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                if placement.device.type == "cuda":
                    torch.cuda.synchronize(placement.device)
                interval_seconds += time.time() - step_started
                state["batch_index"] += len(micro_batches)
                state["step"] += 1
                if state["step"] % options["log_every"] == 0 or state["step"] == total_steps:
                    elapsed = max(interval_seconds, 1e-9)
                    self._log({
                        "type": "progress", "step": state["step"], "total_steps": total_steps,
                        "epoch": state["epoch"] + state["batch_index"] / max(1, len(batches)),
                        "loss": totals[0], "label_loss": totals[1],
                        "rationale_loss": totals[2] if with_rationale else None,
                        "learning_rate": learning_rate, "alpha": step_alpha,
                        "tokens_per_second": interval_tokens * placement.world_size / elapsed,
                        "seconds": time.time() - started,
                        "eta_seconds": (time.time() - loop_started) / max(1, state["step"] - first_step) * (total_steps - state["step"]),
                    })
                    interval_tokens = 0
                    interval_seconds = 0.0
                if state["step"] % options["eval_every"] == 0 or state["step"] == total_steps:
                    run_validation()
                    patience = options["patience"]
                    if patience and state["evaluations_without_improvement"] >= patience:
                        state["stopped_early"] = True
                cancelled, stop = placement.any_rank(self.cancel_requested(), state["stopped_early"])
                state["stopped_early"] = stop
                if state["step"] % options["checkpoint_every"] == 0 or cancelled or stop or state["step"] == total_steps:
                    save_checkpoint("cancel" if cancelled else "periodic")
                if cancelled or stop:
                    break
            if cancelled or state["stopped_early"]:
                break
            if state["step"] < total_steps:
                state["epoch"] += 1
                state["batch_index"] = 0

        if cancelled:
            emit("done", status="cancelled", steps=state["step"], checkpoint=None, best_step=state["best_step"],
                 validation_accuracy=state["best_accuracy"], test_accuracy=None, seconds=time.time() - started)
            return "cancelled"

        # Without validation data the last model is the chosen one.
        if not validation_examples and placement.is_main:
            self._save_best(model, tokenizer, best_directory, state["step"], None)
            state["best_step"] = state["step"]
        placement.barrier()
        test_accuracy = None
        test_correct = None
        if placement.is_main and test_examples:
            from transformers import T5ForConditionalGeneration

            # The folder this run wrote, read from its safetensors only: never a pickle from the run folder.
            chosen = T5ForConditionalGeneration.from_pretrained(
                inside(self.output, best_directory), use_safetensors=True, weights_only=True
            ).to(placement.device)
            test_accuracy, test_correct, _ = evaluate(
                chosen, tokenizer, test_examples, score, placement.device, max_input,
                options["generation_max_tokens"], options["eval_batch_size"], placement.evaluation_autocast,
            )
            self._log({"type": "evaluation", "split": "test", "step": state["best_step"], "accuracy": test_accuracy,
                       "correct": test_correct, "examples": len(test_examples)})
        result = {
            "status": "early-stopped" if state["stopped_early"] else "completed",
            "steps": state["step"],
            "checkpoint": best_directory,
            "best_step": state["best_step"],
            "validation_accuracy": state["best_accuracy"],
            "test_accuracy": test_accuracy,
            "test_examples": len(test_examples),
            "metrics_file": self.metrics.path,
            "seconds": time.time() - started,
        }
        if placement.is_main:
            write_json(self.output, os.path.join(best_directory, "distill-metrics.json"),
                       {key: result[key] for key in ("best_step", "validation_accuracy", "test_accuracy", "test_examples", "steps")})
            write_json(self.output, os.path.join(self.output, "result.json"), result)
        emit("done", **result)
        return result["status"]

    def _save_best(self, model, tokenizer, directory, step, accuracy):
        """Writes the chosen model folder atomically (temporary folder, then rename)."""
        temporary = fresh_directory(self.output, directory + ".tmp")
        save_model_folder(model, tokenizer, temporary, {"step": step, "validation_accuracy": accuracy})
        replace_directory(self.output, temporary, directory)
