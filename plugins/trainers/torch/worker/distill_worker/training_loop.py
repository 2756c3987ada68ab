"""The training run: prepare (data, student, optimisation), resume, the step loop with validation and
checkpoints, then the final test on the chosen model.

The order of the work here is part of the results: the seed is set before the student is built, and
every random draw (weights, dropout, batch order) follows from it in the same order on a fresh run and
on a resumed one, which is what makes a resumed run's curve equal an uninterrupted run's.
"""

import math
import os
import random
import time

import torch

from . import wait_policy
from .checkpoint import Checkpoints, random_states, restore_random_states
from .data import encode_examples, epoch_batches, read_examples, with_weights
from .decoder_encoding import STUDENT_CARD_FILE, encode_decoder_examples, student_card, tokenizer_texts
from .decoder_evaluation import evaluate_decoder
from .decoder_loss import TargetLogits, decoder_task_losses
from .distributed import place, shut_down, wrap_model
from .evaluation import evaluate
from .fused_kernels import dense_gradients, use_fused_kernels
from .line_protocol import UserMistake, emit, set_emitting
from .lora import plain_model
from .metrics import scorer
from .metrics_file import MetricsFile
from .multitask_loss import backward_micro_batch, count_tokens, seq2seq_task_losses
from .parallel_task_passes import ParallelTaskPasses
from .parallel_task_passes import choose as choose_task_passes
from .safe_files import fresh_directory, inside, make_directories, refuse_outside_links, replace_directory, write_json
from .seq2seq_packing import PackedTargetLogits, packed_seq2seq_task_losses
from .student import build_student, save_model_folder
from .thread_policy import choose_threads
from .training_state import TrainingState


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


def sequence_lengths(encoded, with_rationale):
    """The tokens each example feeds the model, for sorting batches by length."""
    return [
        max(len(item["predict"]), len(item["explain"]) if with_rationale else 0)
        + len(item["label"])
        + (len(item["rationale"]) if with_rationale else 0)
        for item in encoded
    ]


class TrainingRun:
    """One run of the worker, built from a checked train request."""

    def __init__(self, request, cancel_requested):
        self.request = request
        self.options = request["options"]
        self.cancel_requested = cancel_requested
        self.output = request["output_directory"]
        self.seed = int(request["seed"])
        self.state = TrainingState()
        self.checkpoints = Checkpoints(self.output)
        self.best_directory = os.path.join(self.output, "best")
        self.score = scorer(request["metric"])
        # Set with the optimisation (see parallel_task_passes); None runs the task passes one after the other.
        self.parallel_passes = None

    def run(self):
        """Trains, evaluates and reports; returns the final status."""
        self.placement = place(self.options)
        set_emitting(self.placement.is_main)
        try:
            self.started = time.time()
            self.prepare()
            self.announce(self.resume())
            if self.train():
                return self.report_cancelled()
            return self.final_test()
        finally:
            if self.parallel_passes is not None:
                self.parallel_passes.close()
            shut_down(self.placement)

    # Prepare: data, student, optimisation.

    def prepare(self):
        """Reads the data, builds the student and its optimizer; the seed is set before the student is built."""
        make_directories(self.output, self.output)
        refuse_outside_links(self.output)
        self.metrics = MetricsFile(self.output, self.placement.is_main)
        self.read_data()
        seed_everything(self.seed)
        self.build_model()
        self.encode_data()
        self.prepare_optimisation()

    def read_data(self):
        """The three splits; validation cut to `eval_limit`, test to `test_limit` (every count reported is of what was scored)."""
        data = self.request["data"]
        self.train_examples = read_examples(data["train"])
        if not self.train_examples:
            raise UserMistake(f"no training examples in {data['train']}")
        self.validation_examples = read_examples(data["validation"]) if data.get("validation") else []
        self.test_examples = read_examples(data["test"]) if data.get("test") else []
        if self.options["eval_limit"]:
            self.validation_examples = self.validation_examples[: self.options["eval_limit"]]
        if self.options["test_limit"]:
            self.test_examples = self.test_examples[: self.options["test_limit"]]
        if not self.validation_examples:
            emit("warning", message="no validation examples: the last step's model is chosen, without model selection")

    def build_model(self):
        """The student and its tokenizer; rank 0 trains the tokenizer, the other ranks wait and load it."""
        student = self.request["student"]
        examples = self.train_examples
        if student.get("family") == "causal-lm" and not student.get("pretrained"):
            texts = tokenizer_texts(student, examples)
        else:
            texts = [text for example in examples for text in (example["input"], example["label"], example["rationale"]) if text]
        labels = [example["label"] for example in examples]
        if self.placement.is_main:
            self.model, self.tokenizer, self.family = build_student(student, texts, labels, self.output, self.seed)
        self.placement.barrier()
        if not self.placement.is_main:
            self.model, self.tokenizer, self.family = build_student(student, texts, labels, self.output, self.seed)
        self.max_input = int(student.get("max_input_length", 512))
        self.max_target = int(student.get("max_target_length", 128))
        # Saved with every model folder, so that inference elsewhere (Node, transformers.js) cuts inputs
        # and generation where training and evaluation here did, and scores the same.
        self.tokenizer.model_max_length = self.max_input
        self.model.generation_config.max_new_tokens = self.options["generation_max_tokens"]
        # The prompt settings of a causal-LM student, written with every model folder as distill-student.json.
        self.card = (
            student_card(student, self.tokenizer, labels, self.options["generation_max_tokens"]) if self.family == "causal-lm" else None
        )

    def encode_data(self):
        """Token ids of both tasks; rationale targets only when α leaves the rationale task a weight."""
        alpha = self.request["alpha"]
        self.with_rationale = not (alpha["start"] == 1 and alpha["end"] == 1)
        if self.card is not None:
            self.encoded = encode_decoder_examples(self.train_examples, self.tokenizer, self.card, self.max_target, self.with_rationale)
        else:
            self.encoded = encode_examples(self.train_examples, self.tokenizer, self.max_input, self.max_target)
        self.encoded = with_weights(self.encoded, self.train_examples)
        self.lengths = sequence_lengths(self.encoded, self.with_rationale)

    def prepare_optimisation(self):
        """Model on its device, DDP, the task passes and their CPU threads, AdamW, the step counts and the learning-rate schedule."""
        options, placement = self.options, self.placement
        self.model.to(placement.device)
        self.model.train()
        self.parameters = sum(parameter.numel() for parameter in self.model.parameters())
        # With LoRA only the adapters train.
        trained = [parameter for parameter in self.model.parameters() if parameter.requires_grad]
        self.trained_parameters = sum(parameter.numel() for parameter in trained)
        # Unset means packed for a T5 student (the options schema has no default for it).
        packing = self.card is None and options.get("packing") is not False
        self.packed_rows = packing
        # Before DDP wraps the model: the replaced modules hold no weights, so nothing else changes.
        self.fused_kernels = (
            use_fused_kernels(self.model, placement.distributed) if self.card is None and options["fused_kernels"] else None
        )
        if packing:
            self.wrapped_model = wrap_model(PackedTargetLogits(self.model), placement)
        else:
            self.wrapped_model = wrap_model(self.model if self.card is None else TargetLogits(self.model), placement)
        pad_id = self.tokenizer.pad_token_id
        multiple = options["pad_to_multiple_of"]
        if packing:
            start_id = self.model.config.decoder_start_token_id
            self.task_losses = packed_seq2seq_task_losses(pad_id, start_id, placement.device, placement.autocast, multiple)
            self.task_passes = options["task_passes"]
        elif self.card is None:
            self.task_losses = seq2seq_task_losses(pad_id, placement.device, placement.autocast, multiple)
            self.task_passes = options["task_passes"]
        else:
            joined = self.card["targets"] == "label-then-rationale"
            self.task_losses = decoder_task_losses(pad_id, placement.device, placement.autocast, joined, multiple)
            # label-then-rationale has one row per example, holding both targets: one pass.
            self.task_passes = "joint" if joined else options["task_passes"]

        def task_passes_at(threads):
            return choose_task_passes(
                options["parallel_task_passes"],
                placement,
                threads,
                self.model,
                self.fused_kernels,
                self.task_passes,
                self.with_rationale,
                options["gradient_accumulation"],
            )

        # Here, once the task passes are known: whether they can run at once decides a narrow student's threads.
        self.threads, self.thread_policy = choose_threads(
            options["threads"], self.model, placement, lambda threads: task_passes_at(threads)[0]
        )
        on, self.task_pass_policy = task_passes_at(self.threads)
        self.parallel_passes = ParallelTaskPasses(self.threads) if on else None
        # The fused kernel updates every parameter in one pass (CPU and CUDA); about 5% faster steps
        # at d_model 256 on a shared CPU (a noisy measurement). Hugging Face's trainer uses it by default.
        self.optimizer = torch.optim.AdamW(trained, lr=options["learning_rate"], weight_decay=options["weight_decay"], fused=True)
        batches_per_epoch = len(self.epoch_batches(0))
        if batches_per_epoch == 0:
            raise UserMistake(
                f"{len(self.train_examples)} training examples make no batch of {options['batch_size']} on {placement.world_size} processes"
            )
        self.steps_per_epoch = math.ceil(batches_per_epoch / options["gradient_accumulation"])
        # One epoch when neither `max_steps` nor `epochs` is given (the schema's description says so).
        epochs = options["epochs"] or 1.0
        self.total_steps = options["max_steps"] or max(1, math.ceil(epochs * self.steps_per_epoch))
        self.scheduler = make_scheduler(self.optimizer, options, self.total_steps)

    def epoch_batches(self, epoch):
        """This rank's batches of `epoch`, a pure function of the seed and the epoch."""
        placement = self.placement
        return epoch_batches(
            self.lengths, self.options["batch_size"], self.seed, epoch, self.options["bucket_batches"], placement.world_size, placement.rank
        )

    # Resume.

    def resume(self):
        """Continues from the newest sound checkpoint when asked to; returns its step, or None."""
        if self.request["resume"] and self.checkpoints.resume(self.apply_checkpoint) is not None:
            self.metrics.truncate_after(self.state.step)
            return self.state.step
        # Nothing to continue: lines of an earlier attempt go, and so do its checkpoints, which
        # would otherwise stand as `previous` to a fallback of this run.
        self.metrics.remove()
        if self.placement.is_main:
            self.checkpoints.remove()
        return None

    def apply_checkpoint(self, saved):
        """Puts model, optimizer, scheduler, this rank's random generators and the state where `saved` left them."""
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        rank = self.placement.rank
        restore_random_states(saved["random"][rank] if rank < len(saved["random"]) else saved["random"][0])
        self.state.restore(saved)

    def announce(self, resumed_from):
        """The `started` event: device, sizes, step counts, where a resume started."""
        emit(
            "started",
            device=str(self.placement.device),
            world_size=self.placement.world_size,
            bf16=self.placement.bf16,
            threads=self.threads,
            thread_policy=self.thread_policy,
            omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
            wait_policy=wait_policy.decision[1] if wait_policy.decision else None,
            packed_rows=self.packed_rows,
            fused_kernels=self.fused_kernels,
            parallel_task_passes=self.parallel_passes is not None,
            task_pass_policy=self.task_pass_policy,
            parameters=self.parameters,
            trained_parameters=self.trained_parameters,
            family=self.family,
            vocabulary=len(self.tokenizer),
            train_examples=len(self.train_examples),
            validation_examples=len(self.validation_examples),
            test_examples=len(self.test_examples),
            total_steps=self.total_steps,
            steps_per_epoch=self.steps_per_epoch,
            resumed_from_step=resumed_from,
            with_rationale=self.with_rationale,
        )

    # The step loop.

    def train(self):
        """Steps until the last step, an early stop or a cancel; returns whether it was cancelled."""
        state = self.state
        self.loop_started = time.time()
        self.first_step = state.step
        # Throughput counts training compute only, not evaluation or checkpoint writing.
        self.interval_tokens = 0
        self.interval_seconds = 0.0
        cancelled = False
        while state.step < self.total_steps and not state.stopped_early:
            batches = self.epoch_batches(state.epoch)
            while state.batch_index < len(batches) and state.step < self.total_steps:
                cancelled = self.step(batches)
                if cancelled or state.stopped_early:
                    break
            if cancelled or state.stopped_early:
                break
            if state.step < self.total_steps:
                state.epoch += 1
                state.batch_index = 0
        return cancelled

    def step(self, batches):
        """One optimizer step, then progress, validation and checkpoint as due; returns whether it was cancelled."""
        state, options = self.state, self.options
        micro_batches = batches[state.batch_index : state.batch_index + options["gradient_accumulation"]]
        step_alpha = alpha_at(self.request["alpha"], state.step, self.total_steps)
        learning_rate = self.scheduler.get_last_lr()[0]
        step_started = time.time()
        with self.placement.one_cast_per_step():
            totals = self.backward(micro_batches, step_alpha)
        self.optimizer_step()
        self.interval_seconds += time.time() - step_started
        state.batch_index += len(micro_batches)
        state.step += 1
        if state.step % options["log_every"] == 0 or state.step == self.total_steps:
            self.report_progress(totals, learning_rate, step_alpha, len(batches))
        if state.step % options["eval_every"] == 0 or state.step == self.total_steps:
            self.validate()
            patience = options["patience"]
            if patience and state.evaluations_without_improvement >= patience:
                state.stopped_early = True
        cancelled, state.stopped_early = self.placement.any_rank(self.cancel_requested(), state.stopped_early)
        if state.step % options["checkpoint_every"] == 0 or cancelled or state.stopped_early or state.step == self.total_steps:
            self.save_checkpoint("cancel" if cancelled else "periodic")
        return cancelled

    def backward(self, micro_batches, step_alpha):
        """Gradients of one optimizer step's micro-batches; returns the (total, label, rationale) losses, averaged over ranks."""
        totals = [0.0, 0.0, 0.0]
        for position, indices in enumerate(micro_batches):
            batch = [self.encoded[index] for index in indices]
            self.interval_tokens += count_tokens(batch, self.with_rationale)
            losses = backward_micro_batch(
                self.wrapped_model,
                batch,
                step_alpha,
                1.0 / len(micro_batches),
                self.with_rationale,
                self.task_passes,
                self.task_losses,
                sync=position == len(micro_batches) - 1,
                parallel=self.parallel_passes,
            )
            for slot, value in enumerate(losses):
                if value is not None:
                    totals[slot] += value / len(micro_batches)
        return self.placement.mean_across(totals)

    def optimizer_step(self):
        """Clips, steps the optimizer and the schedule, clears the gradients."""
        # `fused_kernels` leaves an untied model's embedding gradient sparse.
        dense_gradients(self.model.parameters())
        if self.options["max_grad_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.options["max_grad_norm"])
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.placement.device.type == "cuda":
            torch.cuda.synchronize(self.placement.device)

    def report_progress(self, totals, learning_rate, step_alpha, batch_count):
        """The `progress` event (and metrics line) of the step just taken."""
        state = self.state
        elapsed = max(self.interval_seconds, 1e-9)
        steps_done = max(1, state.step - self.first_step)
        self.log(
            {
                "type": "progress",
                "step": state.step,
                "total_steps": self.total_steps,
                "epoch": state.epoch + state.batch_index / max(1, batch_count),
                "loss": totals[0],
                "label_loss": totals[1],
                "rationale_loss": totals[2] if self.with_rationale else None,
                "learning_rate": learning_rate,
                "alpha": step_alpha,
                "tokens_per_second": self.interval_tokens * self.placement.world_size / elapsed,
                "seconds": time.time() - self.started,
                "eta_seconds": (time.time() - self.loop_started) / steps_done * (self.total_steps - state.step),
            }
        )
        self.interval_tokens = 0
        self.interval_seconds = 0.0

    def log(self, record):
        """An event that also belongs in metrics.jsonl."""
        emit(record["type"], **{key: value for key, value in record.items() if key != "type"})
        self.metrics.write(record)

    # Validation and checkpoints.

    def accuracy(self, model, examples):
        """(accuracy, correct) of greedy `predict` generations on `examples`."""
        options, placement = self.options, self.placement
        if self.card is not None:
            accuracy, correct, _ = evaluate_decoder(
                model,
                self.tokenizer,
                self.card,
                examples,
                self.score,
                placement.device,
                options["generation_max_tokens"],
                options["eval_batch_size"],
                placement.evaluation_autocast,
            )
            return accuracy, correct
        accuracy, correct, _ = evaluate(
            model,
            self.tokenizer,
            examples,
            self.score,
            placement.device,
            self.max_input,
            options["generation_max_tokens"],
            options["eval_batch_size"],
            placement.evaluation_autocast,
        )
        return accuracy, correct

    def validate(self):
        """Scores the validation split (rank 0); a new best model is saved to `best/`.

        With LoRA the merged copy is scored and saved, the model `best/` holds and the exporter and
        Node run: adapters computed beside the frozen weights round differently from the merged sum.
        """
        state = self.state
        if self.placement.is_main and self.validation_examples:
            scored = plain_model(self.model)
            accuracy, correct = self.accuracy(scored, self.validation_examples)
            examples = len(self.validation_examples)
            self.log(
                {
                    "type": "evaluation",
                    "split": "validation",
                    "step": state.step,
                    "accuracy": accuracy,
                    "correct": correct,
                    "examples": examples,
                }
            )
            if state.record_validation(accuracy):
                self.save_best(state.step, accuracy, scored)
                emit("checkpoint", step=state.step, path=self.best_directory, reason="best")
        self.placement.barrier()

    def save_checkpoint(self, reason):
        """Writes the training state as `checkpoints/last` (rank 0), with every rank's random generators."""
        placement = self.placement
        states = [random_states()]
        if placement.distributed:
            gathered = [None] * placement.world_size
            torch.distributed.all_gather_object(gathered, states[0])
            states = gathered
        if placement.is_main:
            self.checkpoints.save(
                {
                    **self.state.as_checkpoint(),
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "random": states,
                    "seed": self.seed,
                },
            )
            emit("checkpoint", step=self.state.step, path=self.checkpoints.last, reason=reason)
        placement.barrier()

    def save_best(self, step, accuracy, model=None):
        """Writes the chosen model folder atomically (temporary folder, then rename); `model`: the merged copy already made."""
        temporary = fresh_directory(self.output, self.best_directory + ".tmp")
        chosen = model if model is not None else self.model
        save_model_folder(chosen, self.tokenizer, temporary, {"step": step, "validation_accuracy": accuracy}, self.card)
        replace_directory(self.output, temporary, self.best_directory)

    # The end of the run.

    def report_cancelled(self):
        """The `done` event of a cancelled run (its checkpoint is written)."""
        state = self.state
        emit(
            "done",
            status="cancelled",
            steps=state.step,
            checkpoint=None,
            best_step=state.best_step,
            validation_accuracy=state.best_accuracy,
            test_accuracy=None,
            seconds=time.time() - self.started,
        )
        return "cancelled"

    def final_test(self):
        """Scores the chosen model on the test split once, writes the result files and the `done` event."""
        state, placement = self.state, self.placement
        # Without validation data the last model is the chosen one.
        if not self.validation_examples and placement.is_main:
            self.save_best(state.step, None)
            state.best_step = state.step
        placement.barrier()
        test_accuracy = self.test_chosen_model() if placement.is_main and self.test_examples else None
        result = {
            "status": "early-stopped" if state.stopped_early else "completed",
            "steps": state.step,
            "checkpoint": self.best_directory,
            "best_step": state.best_step,
            "validation_accuracy": state.best_accuracy,
            "test_accuracy": test_accuracy,
            "test_examples": len(self.test_examples),
            "metrics_file": self.metrics.path,
            "seconds": time.time() - self.started,
        }
        if placement.is_main:
            summary = {key: result[key] for key in ("best_step", "validation_accuracy", "test_accuracy", "test_examples", "steps")}
            write_json(self.output, os.path.join(self.best_directory, "distill-metrics.json"), summary)
            write_json(self.output, os.path.join(self.output, "result.json"), result)
        emit("done", **result)
        return result["status"]

    def test_chosen_model(self):
        """The test accuracy of the model in `best/`; test never influences selection."""
        from transformers import AutoModelForCausalLM, T5ForConditionalGeneration

        folder = inside(self.output, self.best_directory)
        # A decoder's folder says so with its distill-student.json; a T5 folder has none.
        model_class = AutoModelForCausalLM if os.path.isfile(os.path.join(folder, STUDENT_CARD_FILE)) else T5ForConditionalGeneration
        # The folder this run wrote, read from its safetensors only: never a pickle from the run folder.
        chosen = model_class.from_pretrained(folder, use_safetensors=True, weights_only=True, dtype=torch.float32).to(self.placement.device)
        accuracy, correct = self.accuracy(chosen, self.test_examples)
        examples = len(self.test_examples)
        self.log(
            {
                "type": "evaluation",
                "split": "test",
                "step": self.state.best_step,
                "accuracy": accuracy,
                "correct": correct,
                "examples": examples,
            }
        )
        return accuracy
