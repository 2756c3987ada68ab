"""Trainer throughput: the distill worker against the reference loop, on the same data and settings.

    python trainer_benchmark.py SETTINGS.json

SETTINGS.json (written by ``trainer-throughput-benchmark.ts``)::

    {"data": "train.jsonl", "work_directory": "...", "worker_main": ".../worker/main.py",
     "warmup_steps": 5, "measured_steps": 50, "matmul_size": 2048,
     "max_input_length": 128, "max_target_length": 64, "alpha": 0.5, "learning_rate": 5e-4,
     "tokenizer": {"type": "unigram", "vocab_size": 8000}, "options_schema": {...the worker's options schema...},
     "grid": [{"name": "reference-256", "config": {...}, "batch_size": 16, "threads": 2,
               "worker_variants": [{"task_passes": "separate", "bf16": "auto", "spinning": false}, ...],
               "reference_precisions": ["fp32", "bf16"]}]}

Every measurement runs in a process of its own (matmul peak, each worker run, each reference
run), one at a time, with the same thread count and environment, and this driver waits idle.
The worker runs as a plain Python program from a request file (``main.py --request``), as on a
GPU machine. Prints one JSON line with every measurement.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model_flops import training_flops  # noqa: E402 - found through the sys.path entry above (a sibling script, not a package)


def child_environment(threads):
    """The same thread settings for every child: no oversubscription, no tokenizer threads."""
    environment = dict(os.environ)
    # The worker's `spinning` option chooses its OpenMP wait policy; the reference runs with GNU OpenMP's default.
    environment.pop("OMP_WAIT_POLICY", None)
    environment.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    return environment


def run_child(command, threads, log_path, on_line=None):
    """Runs a command, feeding each stdout line to `on_line`; returns (exit status, peak RSS in MB, stdout lines)."""
    lines = []
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, env=child_environment(threads), text=True)
        for line in process.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line)
        # wait4 gives this child's own resource usage: its peak resident set, in kilobytes on Linux.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, lines


def tail(path, count=30):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return "".join(handle.readlines()[-count:])


PRECISIONS = {"fp32": "float32", "bf16": "bfloat16"}


def matmul_peak(settings, threads, precision, label):
    log = os.path.join(settings["work_directory"], f"matmul-{threads}-{precision}-{label}.log")
    code, _, lines = run_child(
        [
            sys.executable,
            os.path.join(HERE, "matmul_peak.py"),
            "--threads",
            str(threads),
            "--size",
            str(settings["matmul_size"]),
            "--dtype",
            PRECISIONS[precision],
        ],
        threads,
        log,
    )
    if code != 0:
        raise RuntimeError(f"matmul_peak.py failed:\n{tail(log)}")
    return json.loads(lines[-1])["gflops"]


def data_statistics(settings, tokenizer_directory, config):
    """Mean real tokens and mean training FLOPs per example (both tasks), from the data and the tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_directory)
    with open(settings["data"], encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    max_input, max_target = settings["max_input_length"], settings["max_target_length"]

    def lengths(texts, limit):
        return [len(ids) for ids in tokenizer(texts, max_length=limit, truncation=True)["input_ids"]]

    inputs = [example["input"] for example in examples]
    predict = lengths(["predict: " + text for text in inputs], max_input)
    explain = lengths(["explain: " + text for text in inputs], max_input)
    label = lengths([example["label"] for example in examples], max_target)
    rationale = lengths([example.get("rationale") or "" for example in examples], max_target)
    full = dict(config, vocab_size=len(tokenizer))
    rows = list(zip(predict, label, explain, rationale, strict=True))
    tokens = [sum(row) for row in rows]
    flops = [training_flops(full, p, target) + training_flops(full, e, r) for p, target, e, r in rows]
    count = len(examples)
    return {
        "examples": count,
        "vocabulary": len(tokenizer),
        "mean_tokens_per_example": sum(tokens) / count,
        "mean_training_gflop_per_example": sum(flops) / count / 1e9,
        "mean_lengths": {
            "predict_input": sum(predict) / count,
            "label": sum(label) / count,
            "explain_input": sum(explain) / count,
            "rationale": sum(rationale) / count,
        },
        "examples_with_rationale": sum(1 for example in examples if example.get("rationale")),
    }


def run_worker(settings, point, variant, directory, shared_tokenizer, student=None):
    """Trains with the worker for warm-up + measured steps; returns its timings from the progress events.

    `variant` is the worker's `task_passes` and `bf16` options; the precision it trained in is read
    back from its `started` event (`bf16: auto` resolves there). `student`: the request's student
    block; default the T5 of `point["config"]` with the settings' tokenizer and lengths.
    """
    os.makedirs(directory, exist_ok=True)
    if os.path.isdir(shared_tokenizer):
        shutil.copytree(shared_tokenizer, os.path.join(directory, "tokenizer"), dirs_exist_ok=True)
    steps = settings["warmup_steps"] + settings["measured_steps"]
    request = {
        "type": "train",
        "protocol": 1,
        "request": {
            "output_directory": directory,
            "data": {"train": settings["data"]},
            "student": student
            or {
                "size": "custom",
                "config": point["config"],
                "tokenizer": settings["tokenizer"],
                "max_input_length": settings["max_input_length"],
                "max_target_length": settings["max_target_length"],
            },
            "alpha": {"start": settings["alpha"], "end": settings["alpha"]},
            "metric": "exact-match",
            "seed": 42,
            "resume": False,
            "options": {
                "batch_size": point["batch_size"],
                "max_steps": steps,
                "threads": point["threads"],
                "learning_rate": settings["learning_rate"],
                "task_passes": variant["task_passes"],
                "bf16": variant["bf16"],
                "spinning": variant["spinning"],
                "eval_every": steps + 1,
                "checkpoint_every": steps + 1,
                "log_every": 1,
            },
            "options_schema": settings["options_schema"],
        },
    }
    request_file = os.path.join(directory, "bench-request.json")
    with open(request_file, "w", encoding="utf-8") as handle:
        json.dump(request, handle)
    progress = {}
    started_event = {}

    def on_line(line):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            return
        if event.get("type") == "progress":
            progress[event["step"]] = event
        elif event.get("type") == "started":
            started_event.update(event)

    log = os.path.join(directory, "worker-stderr.log")
    code, peak_megabytes, _ = run_child(
        [sys.executable, settings["worker_main"], "--request", request_file], point["threads"], log, on_line
    )
    if code != 0 or steps not in progress:
        raise RuntimeError(f"the worker failed (exit {code}, {len(progress)} progress events):\n{tail(log)}")
    warm = settings["warmup_steps"]
    seconds = progress[steps]["seconds"] - progress[warm]["seconds"]
    measured = [progress[step] for step in range(warm + 1, steps + 1)]
    precision = "bf16" if started_event.get("bf16") else "fp32"
    threads_wait = "spinning" if started_event.get("omp_wait_policy") == "ACTIVE" else "sleeping"
    return {
        "variant": f"{variant['task_passes']}, {precision}, {threads_wait}",
        "omp_wait_policy": started_event.get("omp_wait_policy"),
        "options": variant,
        "precision": precision,
        "steps_measured": settings["measured_steps"],
        "seconds": seconds,
        "steps_per_second": settings["measured_steps"] / seconds,
        "self_reported_tokens_per_second_mean": sum(event["tokens_per_second"] for event in measured) / len(measured),
        "peak_rss_megabytes": peak_megabytes,
        "parameters": started_event.get("parameters"),
        "threads": started_event.get("threads"),
        "first_loss": progress[1]["loss"],
        "last_loss": progress[steps]["loss"],
    }


def run_reference(settings, point, precision, directory, tokenizer_directory):
    """Trains with the Seq2SeqTrainer reference for warm-up + measured steps, in fp32 (its default) or bf16."""
    os.makedirs(directory, exist_ok=True)
    steps = settings["warmup_steps"] + settings["measured_steps"]
    command = [
        sys.executable,
        os.path.join(HERE, "reference_loop.py"),
        "--data",
        settings["data"],
        "--tokenizer",
        tokenizer_directory,
        "--config",
        json.dumps(point["config"]),
        "--batch-size",
        str(point["batch_size"]),
        "--steps",
        str(steps),
        "--threads",
        str(point["threads"]),
        "--alpha",
        str(settings["alpha"]),
        "--learning-rate",
        str(settings["learning_rate"]),
        "--max-input-length",
        str(settings["max_input_length"]),
        "--max-target-length",
        str(settings["max_target_length"]),
        "--output-directory",
        directory,
    ] + (["--bf16"] if precision == "bf16" else [])
    log = os.path.join(directory, "reference-stderr.log")
    code, peak_megabytes, lines = run_child(command, point["threads"], log)
    if code != 0 or not lines:
        raise RuntimeError(f"the reference loop failed (exit {code}):\n{tail(log)}")
    result = json.loads(lines[-1])
    times = result["step_seconds_since_start"]
    warm = settings["warmup_steps"]
    seconds = times[steps - 1] - times[warm - 1]
    tokens = result["collated_tokens"]
    return {
        "variant": f"reference, {precision}",
        "precision": precision,
        "steps_measured": settings["measured_steps"],
        "seconds": seconds,
        "steps_per_second": settings["measured_steps"] / seconds,
        "counted_tokens_per_second": (sum(tokens) / len(tokens)) * settings["measured_steps"] / seconds,
        "peak_rss_megabytes": peak_megabytes,
        "parameters": result["parameters"],
        "threads": result["threads"],
        "optimizer": result["optimizer"],
    }


def with_rates(run, statistics, batch_size, peaks):
    """Adds tokens/s and GFLOP/s from the data's mean per-example figures.

    The share of peak is taken against both measured peaks; `share_of_matmul_peak` is the one of the
    precision the run multiplied in (a bf16 run is held to the bf16 peak).
    """
    examples_per_second = run["steps_per_second"] * batch_size
    gflops = examples_per_second * statistics["mean_training_gflop_per_example"]
    return dict(
        run,
        examples_per_second=examples_per_second,
        tokens_per_second=examples_per_second * statistics["mean_tokens_per_example"],
        gflops=gflops,
        share_of_matmul_peak=gflops / peaks[run["precision"]],
        share_of_fp32_matmul_peak=gflops / peaks["fp32"],
    )


def worker_defaults(options_schema):
    """The worker's default `task_passes`, `bf16` and `spinning`, read from the trainer's options schema (they have changed before)."""
    return {name: options_schema["properties"][name]["default"] for name in ("task_passes", "bf16", "spinning")}


def cpu_bf16_supported(worker_main):
    """The worker's own test of native bf16 on this CPU."""
    sys.path.insert(0, os.path.dirname(worker_main))
    from distill_worker.distributed import cpu_bf16_supported as supported

    return supported()


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        settings = json.load(handle)
    defaults = worker_defaults(settings["options_schema"])
    work = settings["work_directory"]
    os.makedirs(work, exist_ok=True)
    shared_tokenizer = os.path.join(work, "tokenizer")
    thread_counts = sorted({point["threads"] for point in settings["grid"]})
    peaks_before = {
        precision: {threads: matmul_peak(settings, threads, precision, "before") for threads in thread_counts} for precision in PRECISIONS
    }
    points = []
    for index, point in enumerate(settings["grid"]):
        base = os.path.join(work, f"{index:02d}-{point['name']}-b{point['batch_size']}-t{point['threads']}")
        workers = []
        for number, variant in enumerate(point["worker_variants"]):
            directory = f"{base}-worker-{number}"
            workers.append(run_worker(settings, point, variant, directory, shared_tokenizer))
            if not os.path.isdir(shared_tokenizer):
                shutil.copytree(os.path.join(directory, "tokenizer"), shared_tokenizer)
        references = [
            run_reference(settings, point, precision, f"{base}-reference-{precision}", shared_tokenizer)
            for precision in point["reference_precisions"]
        ]
        statistics = data_statistics(settings, shared_tokenizer, point["config"])
        peaks = {precision: peaks_before[precision][point["threads"]] for precision in PRECISIONS}
        workers = [with_rates(run, statistics, point["batch_size"], peaks) for run in workers]
        references = [with_rates(run, statistics, point["batch_size"], peaks) for run in references]
        # The target compares with the reference as the paper's loop runs it: the trainer's defaults, fp32.
        reference = next(run for run in references if run["precision"] == "fp32")
        points.append(
            {
                "name": point["name"],
                "config": point["config"],
                "batch_size": point["batch_size"],
                "threads": point["threads"],
                "data": statistics,
                "matmul_peak_gflops": peaks,
                "workers": workers,
                "references": references,
                "speedup_over_reference": {run["variant"]: run["steps_per_second"] / reference["steps_per_second"] for run in workers},
                "speedup_over_same_precision_reference": {
                    run["variant"]: run["steps_per_second"] / match["steps_per_second"]
                    for run in workers
                    for match in references
                    if match["precision"] == run["precision"]
                },
            }
        )
        print(
            f"  {point['name']} b{point['batch_size']} t{point['threads']}: "
            + ", ".join(f"worker {run['variant']} {run['steps_per_second']:.2f} steps/s" for run in workers)
            + "".join(f", {run['variant']} {run['steps_per_second']:.2f} steps/s" for run in references),
            file=sys.stderr,
            flush=True,
        )
    peaks_after = {
        precision: {threads: matmul_peak(settings, threads, precision, "after") for threads in thread_counts} for precision in PRECISIONS
    }
    print(
        json.dumps(
            {
                "worker_defaults": defaults,
                "cpu_bf16_supported": cpu_bf16_supported(settings["worker_main"]),
                "matmul_peak_gflops": {
                    precision: {
                        str(threads): {"before": peaks_before[precision][threads], "after": peaks_after[precision][threads]}
                        for threads in thread_counts
                    }
                    for precision in PRECISIONS
                },
                "points": points,
            }
        )
    )


if __name__ == "__main__":
    main()
