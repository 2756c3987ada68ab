"""Trainer throughput: the distill worker against the reference loops, on the same data and settings.

    python trainer_benchmark.py SETTINGS.json

SETTINGS.json (written by ``trainer-throughput-benchmark.ts``)::

    {"data": "train.jsonl", "work_directory": "...", "worker_main": ".../worker/main.py",
     "warmup_steps": 5, "measured_steps": 30, "repeats": 3, "matmul_size": 2048,
     "max_input_length": 128, "max_target_length": 64, "alpha": 0.5, "learning_rate": 5e-4,
     "tokenizer": {"type": "unigram", "vocab_size": 8000}, "options_schema": {...the worker's options schema...},
     "targets": {"speedup_over_reference": 1.5, "share_of_matmul_peak": 0.6},
     "grid": [{"name": "reference-256", "config": {...}, "batch_size": 16, "threads": 2,
               "worker_variants": [{"options": {}}, {"options": {"spinning": true}}, ...],
               "references": [{"precision": "bf16", "sampling": "group_by_length", "headline": true},
                              {"precision": "fp32", "sampling": "random"}]}]}

A worker variant is any set of worker options (checked by the worker against its schema; an option
left out takes its default); the variant with no options is the worker as shipped, the one the
targets judge. The headline reference is Hugging Face's trainer as its user runs it for speed (bf16,
length grouping); the fp32 random-order loop is the paper's.

Every measurement runs in a process of its own (matmul peaks, each worker run, each reference run),
one at a time, with the same thread count and environment, and this driver waits idle. `repeats`
rounds run one after another, each holding every measurement once (A B C, A B C, never A A B B),
each round starting one place further along, so that a slow minute of a shared machine falls on
every variant alike; each figure is the median over the rounds with its spread (min, max), and a
speedup is the median of the per-round ratios. The matmul peaks are checked against the hardware
ceiling (``matmul_peak.ceiling``); the padding share (executed over real matmul FLOPs) is counted
from the reference's collated batches and from the worker's own batching code. The worker runs as a
plain Python program from a request file (``main.py --request``), as on a GPU machine. Prints one
JSON line with every measurement.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from matmul_peak import ceiling as hardware_ceiling  # noqa: E402 - sibling scripts, found through the sys.path entry above
from model_flops import training_flops  # noqa: E402


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


def measure_matmul_peak(settings, threads, precision, label):
    """One run of ``matmul_peak.py`` in its own process: best and median GFLOP/s, the kernel, CPU seconds per wall second."""
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
    return json.loads(lines[-1])


def matmul_peak(settings, threads, precision, label):
    """The best GFLOP/s of one ``matmul_peak.py`` run."""
    return measure_matmul_peak(settings, threads, precision, label)["gflops"]


def summary(values):
    """Median and spread (min, max) of repeated measurements, and the values in the order they were taken."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return {"median": statistics.median(present), "min": min(present), "max": max(present), "values": values}


def peak_summaries(runs, ceiling, threads):
    """The matmul peaks of every repeat of one (precision, thread count), against the hardware ceiling.

    A median above the ceiling (cores × clock × FLOPs per cycle) is not a peak this CPU can reach:
    it is `refused` and no share of it is computed. `starved`: the runs kept fewer than 80% of their
    threads busy (the median CPU seconds per wall second), so other work held the cores and the peak
    (and every share of it) is understated.
    """
    result = {}
    for precision, measured in runs.items():
        per_core = ceiling["gflops_per_core"][PRECISIONS[precision]]
        limit = None if per_core is None else per_core * min(threads, ceiling["cores"])
        gflops = summary([run["gflops"] for run in measured])
        result[precision] = {
            "gflops": gflops,
            "median_of_repetitions_gflops": summary([run["median_gflops"] for run in measured]),
            "kernel": measured[0]["kernel"],
            "size": measured[0]["size"],
            "threads": threads,
            "cpu_seconds_per_wall_second": summary([run["cpu_seconds_per_wall_second"] for run in measured]),
            "ceiling_gflops": limit,
            "share_of_ceiling": None if limit is None else gflops["median"] / limit,
            "refused": limit is not None and gflops["median"] > limit,
            # Under 80% of the asked threads busy while timing: other work took the cores, the peak is low.
            "starved": statistics.median(run["cpu_seconds_per_wall_second"] for run in measured) < 0.8 * threads,
        }
    return result


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


def variant_name(options, defaults, precision, threads_wait):
    """`separate, bf16, sleeping, packed`, then any option beyond the four the name already says (`threads=2`).

    Packing is named whether set or not: unset, a T5 student trains on packed rows.
    """
    named = ("task_passes", "bf16", "spinning", "packing")
    # Values as the request spells them (true, 2, packed), not as Python prints them (True).
    spelled = {key: value if isinstance(value, str) else json.dumps(value) for key, value in options.items()}
    extra = "".join(f", {key}={value}" for key, value in sorted(spelled.items()) if key not in named)
    rows = "unpacked" if options.get("packing") is False else "packed"
    return f"{options.get('task_passes', defaults['task_passes'])}, {precision}, {threads_wait}, {rows}{extra}"


def run_worker(settings, point, options, directory, shared_tokenizer, student=None, defaults=None):
    """Trains with the worker for warm-up + measured steps; returns its timings from the progress events.

    `options`: worker options (any the trainer's options schema has; the worker checks them) on top
    of the bench's own (batch size, steps, threads, learning rate, no evaluation or checkpoint inside
    the timed steps); an option left out takes the worker's default. The precision it trained in is
    read back from its `started` event (`bf16: auto` resolves there). `student`: the request's
    student block; default the T5 of `point["config"]` with the settings' tokenizer and lengths.
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
                "eval_every": steps + 1,
                "checkpoint_every": steps + 1,
                "log_every": 1,
                **options,
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
    defaults = defaults or worker_defaults(settings["options_schema"])
    threads_wait = "spinning" if started_event.get("omp_wait_policy") == "ACTIVE" else "sleeping"
    if options.get("spinning", defaults["spinning"]) == "auto":
        # Named apart from `spinning: true` and `false`, whichever way auto went on this machine.
        threads_wait += " (auto)"
    return {
        "variant": variant_name(options, defaults, precision, threads_wait),
        "omp_wait_policy": started_event.get("omp_wait_policy"),
        "wait_policy": started_event.get("wait_policy"),
        "options": options,
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


SAMPLING_NAMES = {"group_by_length": "grouped by length", "random": "random order"}


def reference_name(reference):
    """`reference, bf16, grouped by length`."""
    return f"reference, {reference['precision']}, {SAMPLING_NAMES[reference['sampling']]}"


def run_reference(settings, point, reference, directory, tokenizer_directory):
    """Trains with the Seq2SeqTrainer reference for warm-up + measured steps.

    `reference`: `precision` (fp32, the trainer's default, or bf16: `bf16=True`) and `sampling`
    (random, the default, or `group_by_length`).
    """
    os.makedirs(directory, exist_ok=True)
    steps = settings["warmup_steps"] + settings["measured_steps"]
    command = (
        [
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
        ]
        + (["--bf16"] if reference["precision"] == "bf16" else [])
        + (["--group-by-length"] if reference["sampling"] == "group_by_length" else [])
    )
    log = os.path.join(directory, "reference-stderr.log")
    code, peak_megabytes, lines = run_child(command, point["threads"], log)
    if code != 0 or not lines:
        raise RuntimeError(f"the reference loop failed (exit {code}):\n{tail(log)}")
    result = json.loads(lines[-1])
    times = result["step_seconds_since_start"]
    warm = settings["warmup_steps"]
    seconds = times[steps - 1] - times[warm - 1]
    tokens = result["collated_tokens"]
    # The batches of the timed steps (the data loader may collate one batch ahead of the last step).
    timed = slice(warm, steps)
    return {
        "variant": reference_name(reference),
        "precision": reference["precision"],
        "sampling": result["sampling"],
        "autocast": result["autocast"],
        "steps_measured": settings["measured_steps"],
        "seconds": seconds,
        "steps_per_second": settings["measured_steps"] / seconds,
        "counted_tokens_per_second": (sum(tokens) / len(tokens)) * settings["measured_steps"] / seconds,
        "executed_over_real_flops": sum(result["executed_flops"][timed]) / sum(result["real_flops"][timed]),
        "peak_rss_megabytes": peak_megabytes,
        "parameters": result["parameters"],
        "threads": result["threads"],
        "optimizer": result["optimizer"],
    }


# Worker options that change neither which examples share a batch nor how a batch is padded.
PADDING_NEUTRAL_OPTIONS = {"bf16", "spinning", "threads", "fused_kernels", "parallel_task_passes"}


def worker_padding(settings, point, options, defaults, tokenizer_directory):
    """Executed over real matmul FLOPs of the worker's timed steps, from its own batching code.

    The worker's `encode_examples`, `sequence_lengths` and `epoch_batches` (seed 42, epoch 0, as the
    bench's requests) give the batches of the timed steps; `separate` pads each task's rows to that
    task's longest input and target, `joint` pads both tasks' rows together. None (not modelled) for an
    option beyond `task_passes`, `bucket_batches` and the padding-neutral ones: a new batching option
    (packing) needs its own count here.
    """
    # Packed rows (the default, unset) are not modelled here: their padding is the packer's.
    modelled = PADDING_NEUTRAL_OPTIONS | {"task_passes", "bucket_batches", "packing"}
    if options.get("packing") is not False or any(key not in modelled for key in options):
        return None
    sys.path.insert(0, os.path.dirname(settings["worker_main"]))
    from distill_worker.data import encode_examples, epoch_batches, read_examples
    from distill_worker.training_loop import sequence_lengths
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_directory)
    encoded = encode_examples(read_examples(settings["data"]), tokenizer, settings["max_input_length"], settings["max_target_length"])
    bucket_batches = options.get("bucket_batches", settings["options_schema"]["properties"]["bucket_batches"]["default"])
    batches = epoch_batches(sequence_lengths(encoded, True), point["batch_size"], 42, 0, bucket_batches)
    steps = settings["warmup_steps"] + settings["measured_steps"]
    config = dict(point["config"], vocab_size=len(tokenizer))
    joint = options.get("task_passes", defaults["task_passes"]) == "joint"
    executed = real = 0
    for batch in batches[settings["warmup_steps"] : steps]:
        rows = [[encoded[index] for index in batch]]
        pairs = [("predict", "label"), ("explain", "rationale")]
        for source, target in pairs:
            real += sum(training_flops(config, len(item[source]), len(item[target])) for item in rows[0])
        groups = [pairs] if joint else [[pair] for pair in pairs]
        for group in groups:
            longest_input = max(len(item[source]) for item in rows[0] for source, _ in group)
            longest_target = max(len(item[target]) for item in rows[0] for _, target in group)
            executed += len(group) * len(batch) * training_flops(config, longest_input, longest_target)
    return executed / real


def with_rates(run, statistics_of, batch_size, peaks):
    """Adds tokens/s and GFLOP/s from the data's mean per-example figures (real tokens: padding is no work).

    Shares are taken against the measured medians of both peaks of the round's thread count (None
    where the peak was refused); `share_of_matmul_peak` is the one of the precision the run multiplied
    in (a bf16 run is held to the bf16 peak).
    """
    examples_per_second = run["steps_per_second"] * batch_size
    gflops = examples_per_second * statistics_of["mean_training_gflop_per_example"]

    def share(precision):
        peak = peaks[precision]
        return None if peak["refused"] else gflops / peak["gflops"]["median"]

    return dict(
        run,
        examples_per_second=examples_per_second,
        tokens_per_second=examples_per_second * statistics_of["mean_tokens_per_example"],
        gflops=gflops,
        share_of_matmul_peak=share(run["precision"]),
        share_of_bf16_matmul_peak=share("bf16"),
        share_of_fp32_matmul_peak=share("fp32"),
    )


SUMMARISED = (
    "seconds",
    "steps_per_second",
    "examples_per_second",
    "tokens_per_second",
    "gflops",
    "share_of_matmul_peak",
    "share_of_bf16_matmul_peak",
    "share_of_fp32_matmul_peak",
    "self_reported_tokens_per_second_mean",
    "counted_tokens_per_second",
)


def summarised(runs):
    """One row from the repeats of one variant: medians and spreads of the timings, the rest from the first run."""
    first = runs[0]
    row = {key: value for key, value in first.items() if key not in SUMMARISED}
    row.update({key: summary([run[key] for run in runs]) for key in SUMMARISED if key in first})
    row["repeats"] = len(runs)
    row["peak_rss_megabytes"] = max(run["peak_rss_megabytes"] for run in runs)
    if "last_loss" in first:
        row["last_loss"] = [run["last_loss"] for run in runs]
    return row


def ratios(variants, reference):
    """Each variant's steps/s over `reference`'s, per round (the runs of a round are neighbours in time)."""
    return {
        rows[0]["variant"]: summary(
            [run["steps_per_second"] / match["steps_per_second"] for run, match in zip(rows, reference, strict=True)]
        )
        for rows in variants
    }


def worker_defaults(options_schema):
    """The worker's default `task_passes`, `bf16` and `spinning`, read from the trainer's options schema (they have changed before)."""
    return {name: options_schema["properties"][name]["default"] for name in ("task_passes", "bf16", "spinning")}


def cpu_bf16_supported(worker_main):
    """The worker's own test of native bf16 on this CPU."""
    sys.path.insert(0, os.path.dirname(worker_main))
    from distill_worker.distributed import cpu_bf16_supported as supported

    return supported()


def distinct_names(variants):
    """Numbers the rows of variants that came out with the same name (two option sets that resolve alike), so none hides another."""
    names = [rows[0]["variant"] for rows in variants]
    for number, rows in enumerate(variants):
        if names.count(rows[0]["variant"]) > 1:
            for run in rows:
                run["variant"] = f"{names[number]} (variant {number + 1})"


def rotated(items, by):
    """`items` starting at `by` (mod length): each round starts with a different run, so no variant always runs first."""
    shift = by % len(items) if items else 0
    return items[shift:] + items[:shift]


def targets_of(point, settings, workers, speedups, peaks):
    """Met or missed, for the worker as shipped (the variant with no options of its own), where the issue sets a target."""
    targets = settings["targets"]
    shipped = next((rows for rows in workers if not rows[0]["options"]), None)
    if shipped is None:
        return {}
    name = shipped[0]["variant"]
    applies = point["config"]["d_model"] == 256 and point["batch_size"] in (16, 32) and point["threads"] in (1, 2)
    result = {}
    if applies:
        speedup = speedups[name]["median"]
        result["speedup_over_headline_reference"] = {
            "variant": name,
            "required": targets["speedup_over_reference"],
            "measured": speedup,
            "met": speedup >= targets["speedup_over_reference"],
        }
    if applies and point["batch_size"] == 32:
        share = summary([run["share_of_bf16_matmul_peak"] for run in shipped])
        result["share_of_bf16_matmul_peak"] = {
            "variant": name,
            "required": targets["share_of_matmul_peak"],
            "measured": None if share is None else share["median"],
            "met": share is not None and share["median"] >= targets["share_of_matmul_peak"],
            **({"why_not_measured": "the bf16 peak was refused (above the hardware ceiling)"} if peaks["bf16"]["refused"] else {}),
        }
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        settings = json.load(handle)
    defaults = worker_defaults(settings["options_schema"])
    work = settings["work_directory"]
    os.makedirs(work, exist_ok=True)
    shared_tokenizer = os.path.join(work, "tokenizer")
    thread_counts = sorted({point["threads"] for point in settings["grid"]})
    ceiling = hardware_ceiling(os.cpu_count())
    repeats = settings["repeats"]
    grid = settings["grid"]
    # peak_runs[threads][precision]: one run per round; runs[index][kind][number]: one run per round.
    peak_runs = {threads: {precision: [] for precision in PRECISIONS} for threads in thread_counts}
    runs = [{"worker": [[] for _ in point["worker_variants"]], "reference": [[] for _ in point["references"]]} for point in grid]
    for repeat in range(repeats):
        # Every measurement once per round, rounds one after another: A B C, A B C, never A A B B.
        for threads, precision in rotated([(threads, precision) for threads in thread_counts for precision in PRECISIONS], repeat):
            peak_runs[threads][precision].append(measure_matmul_peak(settings, threads, precision, f"round{repeat}"))
        for index, point in enumerate(grid):
            base = os.path.join(work, f"{index:02d}-{point['name']}-b{point['batch_size']}-t{point['threads']}")
            jobs = [("worker", number) for number in range(len(point["worker_variants"]))]
            jobs += [("reference", number) for number in range(len(point["references"]))]
            # Round 1 starts with a worker (rotation by 0): the first worker trains the tokenizer every later run shares.
            for kind, number in rotated(jobs, repeat):
                directory = f"{base}-{kind}-{number}-r{repeat}"
                if kind == "worker":
                    options = point["worker_variants"][number]["options"]
                    run = run_worker(settings, point, options, directory, shared_tokenizer, defaults=defaults)
                    if not os.path.isdir(shared_tokenizer):
                        shutil.copytree(os.path.join(directory, "tokenizer"), shared_tokenizer)
                else:
                    run = run_reference(settings, point, point["references"][number], directory, shared_tokenizer)
                runs[index][kind][number].append(run)
                shutil.rmtree(directory, ignore_errors=True)
            latest = [rows[-1] for rows in runs[index]["worker"] + runs[index]["reference"]]
            print(
                f"  round {repeat + 1}/{repeats}, {point['name']} b{point['batch_size']} t{point['threads']}: "
                + ", ".join(f"{run['variant']} {run['steps_per_second']:.2f} steps/s" for run in latest),
                file=sys.stderr,
                flush=True,
            )
    peaks = {threads: peak_summaries(peak_runs[threads], ceiling, threads) for threads in thread_counts}
    points = []
    for index, point in enumerate(grid):
        distinct_names(runs[index]["worker"])
        statistics_of = data_statistics(settings, shared_tokenizer, point["config"])
        point_peaks = peaks[point["threads"]]
        workers = [[with_rates(run, statistics_of, point["batch_size"], point_peaks) for run in rows] for rows in runs[index]["worker"]]
        references = [
            [with_rates(run, statistics_of, point["batch_size"], point_peaks) for run in rows] for rows in runs[index]["reference"]
        ]
        padding = {rows[0]["variant"]: worker_padding(settings, point, rows[0]["options"], defaults, shared_tokenizer) for rows in workers}
        headline = next(number for number, reference in enumerate(point["references"]) if reference.get("headline"))
        speedups = ratios(workers, references[headline])
        worker_rows = [dict(summarised(rows), executed_over_real_flops=padding[rows[0]["variant"]]) for rows in workers]
        points.append(
            {
                "name": point["name"],
                "config": point["config"],
                "batch_size": point["batch_size"],
                "threads": point["threads"],
                "data": statistics_of,
                "matmul_peak_gflops": {precision: point_peaks[precision]["gflops"]["median"] for precision in PRECISIONS},
                "workers": worker_rows,
                "references": [
                    dict(summarised(rows), headline=bool(point["references"][number].get("headline")))
                    for number, rows in enumerate(references)
                ],
                "headline_reference": references[headline][0]["variant"],
                "speedup_over_reference": speedups,
                # Every loop (the references too) over each reference: the references' own distance shows what bf16 and grouping bring.
                "speedup_over_each_reference": {rows[0]["variant"]: ratios(workers + references, rows) for rows in references},
                "targets": targets_of(point, settings, workers, speedups, point_peaks),
            }
        )
    print(
        json.dumps(
            {
                "worker_defaults": defaults,
                "cpu_bf16_supported": cpu_bf16_supported(settings["worker_main"]),
                "repeats": repeats,
                "spread": "min and max over the repeats; the figure is their median",
                "hardware_ceiling": ceiling,
                "matmul_peak": {str(threads): peaks[threads] for threads in thread_counts},
                "points": points,
            }
        )
    )


if __name__ == "__main__":
    main()
