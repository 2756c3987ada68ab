"""Trainer throughput of a pretrained causal-LM student (SmolLM2-135M) in the distill worker.

    python pretrained_throughput.py SETTINGS.json

SETTINGS.json (written by ``pretrained-throughput-benchmark.ts``)::

    {"data": "train.jsonl", "work_directory": "...", "worker_main": ".../worker/main.py",
     "warmup_steps": 3, "measured_steps": 10, "repeats": 3, "matmul_size": 2048, "threads": 2,
     "batch_size": 16, "alpha": 0.5, "learning_rate": 1e-4, "layouts": ["two-tasks", "label-then-rationale"],
     "student": {...the request's student block, without targets...}, "options_schema": {...}}

Each repeat runs the worker once per target layout, one after another (repeat 1: two-tasks,
label-then-rationale; repeat 2: the same; …), so that a slow minute of the machine falls on every
layout alike; the median over repeats is the figure, the spread (min, max) beside it. The worker runs
as a plain Python program from a request file, with its defaults, timed from its progress events
(``trainer_benchmark.run_worker``). The bf16 and fp32 matmul peaks are measured in every repeat too, and
checked against the hardware ceiling (``matmul_peak.ceiling``); a peak above it is refused, and no share
is taken of it.

FLOPs of a training step, counted on real (unpadded) tokens of the data as the worker encodes them:
6 × non-embedding parameters × tokens (forward 2, backward 4 per multiply-add of every weight matrix
but the embedding) + 6 × hidden size × vocabulary × target tokens (the output layer, which the
worker computes at target positions only). Attention scores, norms and the embedding look-up are
left out. Prints one JSON line.
"""

import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from matmul_peak import ceiling as hardware_ceiling  # noqa: E402 - sibling scripts
from trainer_benchmark import (  # noqa: E402
    PRECISIONS,
    cpu_bf16_supported,
    measure_matmul_peak,
    peak_summaries,
    run_worker,
    summary,
    worker_defaults,
)


def decoder_statistics(settings, model_folder, layout):
    """Mean real tokens, target tokens and training FLOPs per example for one target layout.

    The data is encoded by the worker's own code (`encode_decoder_examples`) with the tokenizer and
    `distill-student.json` of the model folder the worker wrote, so the counts are the worker's.
    """
    sys.path.insert(0, os.path.dirname(settings["worker_main"]))
    from distill_worker.decoder_encoding import STUDENT_CARD_FILE, encode_decoder_examples
    from transformers import AutoTokenizer

    with open(os.path.join(model_folder, STUDENT_CARD_FILE), encoding="utf-8") as handle:
        card = json.load(handle)
    with open(os.path.join(model_folder, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    tokenizer = AutoTokenizer.from_pretrained(model_folder)
    with open(settings["data"], encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    encoded = encode_decoder_examples(examples, tokenizer, card, settings["student"]["max_target_length"], True)
    tokens = [len(row["predict"]) + len(row["explain"]) + len(row["label"]) + len(row["rationale"]) for row in encoded]
    targets = [len(row["label"]) + len(row["rationale"]) for row in encoded]
    hidden, vocabulary = config["hidden_size"], config["vocab_size"]
    count = len(encoded)
    return {
        "layout": layout,
        "examples": count,
        "mean_tokens_per_example": sum(tokens) / count,
        "mean_target_tokens_per_example": sum(targets) / count,
        "hidden_size": hidden,
        "vocabulary": vocabulary,
        "tied_embeddings": bool(config.get("tie_word_embeddings", False)),
    }


def with_flops(data, parameters):
    """Adds the non-embedding parameters and the mean training FLOPs per example (see the module's docstring)."""
    embeddings = data["vocabulary"] * data["hidden_size"] * (1 if data["tied_embeddings"] else 2)
    non_embedding = parameters - embeddings
    flops = (
        6 * non_embedding * data["mean_tokens_per_example"]
        + 6 * data["hidden_size"] * data["vocabulary"] * data["mean_target_tokens_per_example"]
    )
    return dict(data, parameters=parameters, non_embedding_parameters=non_embedding, mean_training_gflop_per_example=flops / 1e9)


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        settings = json.load(handle)
    work = settings["work_directory"]
    os.makedirs(work, exist_ok=True)
    threads = settings["threads"]
    defaults = worker_defaults(settings["options_schema"])
    point = {"batch_size": settings["batch_size"], "threads": threads}
    ceiling = hardware_ceiling(os.cpu_count())
    peak_runs = {precision: [] for precision in PRECISIONS}
    runs = {layout: [] for layout in settings["layouts"]}
    data = {}
    for repeat in range(settings["repeats"]):
        # The matmul peaks are measurements of the round too, checked against the hardware ceiling afterwards.
        for precision in PRECISIONS:
            peak_runs[precision].append(measure_matmul_peak(settings, threads, precision, f"round{repeat}"))
        for layout in settings["layouts"]:
            directory = os.path.join(work, f"{layout}-{repeat}")
            student = dict(settings["student"], targets=layout)
            run = run_worker(settings, point, defaults, directory, "", student=student)
            if layout not in data:
                data[layout] = with_flops(decoder_statistics(settings, os.path.join(directory, "best"), layout), run["parameters"])
            runs[layout].append(run)
            print(
                f"  repeat {repeat + 1}, {layout}: {run['steps_per_second']:.4f} steps/s ({run['precision']})", file=sys.stderr, flush=True
            )
            # A pretrained run leaves a model folder and optimizer state of hundreds of MB.
            shutil.rmtree(directory, ignore_errors=True)
    peaks = peak_summaries(peak_runs, ceiling, threads)

    def share(precision, value):
        """Of the median measured peak; None where that peak was refused (above the hardware ceiling)."""
        return None if peaks[precision]["refused"] else value / peaks[precision]["gflops"]["median"]

    layouts = []
    for layout, measured in runs.items():
        statistics_of = data[layout]
        steps_per_second = [run["steps_per_second"] for run in measured]
        examples_per_second = [value * settings["batch_size"] for value in steps_per_second]
        gflops = [value * statistics_of["mean_training_gflop_per_example"] for value in examples_per_second]
        precision = measured[0]["precision"]
        layouts.append(
            {
                "layout": layout,
                "precision": precision,
                "omp_wait_policy": measured[0]["omp_wait_policy"],
                "data": statistics_of,
                "steps_per_second": summary(steps_per_second),
                "tokens_per_second": summary([value * statistics_of["mean_tokens_per_example"] for value in examples_per_second]),
                "self_reported_tokens_per_second": summary([run["self_reported_tokens_per_second_mean"] for run in measured]),
                "gflops": summary(gflops),
                "share_of_bf16_matmul_peak": summary([share("bf16", value) for value in gflops]),
                "share_of_fp32_matmul_peak": summary([share("fp32", value) for value in gflops]),
                "peak_rss_megabytes": max(run["peak_rss_megabytes"] for run in measured),
                "first_loss": measured[0]["first_loss"],
                "last_loss": measured[0]["last_loss"],
            }
        )
    print(
        json.dumps(
            {
                "worker_defaults": defaults,
                "cpu_bf16_supported": cpu_bf16_supported(settings["worker_main"]),
                "hardware_ceiling": ceiling,
                "matmul_peak": peaks,
                "layouts": layouts,
            }
        )
    )


if __name__ == "__main__":
    main()
