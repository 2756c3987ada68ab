"""A small before/after timing of worker option sets: interleaved repeats, median and spread of steps/s.

    python worker_speed_check.py --data train.jsonl --work-directory DIR --d-model 256 --batch-size 16 \\
        --threads 1 --repeats 3 --variant 'separate={"task_passes": "separate"}' --variant 'joint={"task_passes": "joint"}'

Each `--variant NAME=JSON` is a set of worker options laid over the common ones (batch size, steps,
threads; ``"threads": null`` leaves the thread count to the worker's own policy); its key
``"environment"`` (an object) is set in the worker's environment instead, e.g. an OpenMP spin count.
``--busy N`` keeps N single-thread busy loops running beside every run, as a shared machine would. The variants run
in turn, A B A B ..., never A A B B, each in a process of its own from a request file
(``main.py --request``, as ``trainer_benchmark.py`` runs it), so that a load change on a shared
machine touches every variant alike. A run's steps/s counts the steps after the warm-up ones, from
the worker's own progress events (training compute only). Prints one JSON line per run while it
goes, then one summary line per variant: median [min, max] of steps/s, the spread being min and max.

The options schema comes from the built TypeScript plugin (``dist/``; run ``npm run build`` first),
the single declaration of the trainer's options. Meant for quick indicative checks during speed
work (a few dozen steps); the published numbers come from ``trainer-throughput-benchmark.ts``.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER_MAIN = os.path.join(ROOT, "plugins", "trainers", "torch", "worker", "main.py")

# T5 dimensions by d_model: 64 is the quickstart's student (pipelines/esnli-from-scratch.yaml), 128 and 256
# the trainer benchmark's (trainer-throughput-benchmark.ts).
CONFIGS = {
    64: {"d_model": 64, "d_ff": 256, "d_kv": 16, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2, "dropout_rate": 0.0},
    128: {"d_model": 128, "d_ff": 512, "d_kv": 32, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2, "dropout_rate": 0.1},
    256: {"d_model": 256, "d_ff": 1024, "d_kv": 64, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2, "dropout_rate": 0.1},
}


def options_schema():
    """The worker's options schema, read from the built plugin."""
    module = os.path.join(ROOT, "dist", "plugins", "trainers", "torch", "torch-trainer-options.js")
    script = f"import({json.dumps(module)}).then((m) => process.stdout.write(JSON.stringify(m.workerOptionsSchema)))"
    return json.loads(subprocess.run(["node", "-e", script], check=True, capture_output=True, text=True).stdout)


def parse_variant(text):
    name, separator, options = text.partition("=")
    if not separator or not name:
        raise SystemExit(f"--variant must be NAME=JSON, got {text!r}")
    return name, json.loads(options)


def run_once(arguments, schema, name, variant, directory, tokenizer_directory):
    """One worker run of `variant`; returns its measured steps/s and what its `started` event said."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    if os.path.isdir(tokenizer_directory):
        shutil.copytree(tokenizer_directory, os.path.join(directory, "tokenizer"))
    steps = arguments.warmup_steps + arguments.measured_steps
    overrides = variant.get("environment", {})
    variant = {key: value for key, value in variant.items() if key != "environment"}
    options = {
        "batch_size": arguments.batch_size,
        "max_steps": steps,
        "threads": arguments.threads,
        "eval_every": steps + 1,
        "checkpoint_every": steps + 1,
        "log_every": 1,
        **variant,
    }
    options = {key: value for key, value in options.items() if value is not None}
    request = {
        "type": "train",
        "protocol": 1,
        "request": {
            "output_directory": directory,
            "data": {"train": arguments.data},
            "student": {
                "size": "custom",
                "config": CONFIGS[arguments.d_model],
                "tokenizer": {"type": "unigram", "vocab_size": 8000},
                "max_input_length": 128,
                "max_target_length": 64,
            },
            "alpha": {"start": 0.5, "end": 0.5},
            "metric": "exact-match",
            "seed": 42,
            "resume": False,
            "options": options,
            "options_schema": schema,
        },
    }
    request_file = os.path.join(directory, "request.json")
    with open(request_file, "w", encoding="utf-8") as handle:
        json.dump(request, handle)
    environment = dict(os.environ, TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    environment.pop("OMP_WAIT_POLICY", None)
    # An explicit thread count goes to OpenMP too; without one the worker's own policy decides, which
    # $OMP_NUM_THREADS would override.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        environment.pop(variable, None)
        if options.get("threads"):
            environment[variable] = str(options["threads"])
    environment.update({key: str(value) for key, value in overrides.items()})
    log_path = os.path.join(directory, "worker-stderr.log")
    with open(log_path, "w", encoding="utf-8") as log:
        completed = subprocess.run(
            [sys.executable, WORKER_MAIN, "--request", request_file], stdout=subprocess.PIPE, stderr=log, env=environment, text=True
        )
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    progress = {event["step"]: event for event in events if event.get("type") == "progress"}
    started = next((event for event in events if event.get("type") == "started"), {})
    if completed.returncode != 0 or steps not in progress:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            raise SystemExit(f"{name}: the worker failed (exit {completed.returncode}):\n{handle.read()[-3000:]}")
    if not os.path.isdir(tokenizer_directory):
        shutil.copytree(os.path.join(directory, "tokenizer"), tokenizer_directory)
    seconds = progress[steps]["seconds"] - progress[arguments.warmup_steps]["seconds"]
    return {
        "variant": name,
        "steps_per_second": arguments.measured_steps / seconds,
        "threads": started.get("threads"),
        "thread_policy": started.get("thread_policy"),
        "omp_wait_policy": started.get("omp_wait_policy"),
        "bf16": started.get("bf16"),
        "first_loss": progress[1]["loss"],
        "last_loss": progress[steps]["loss"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work-directory", required=True)
    parser.add_argument("--d-model", type=int, choices=sorted(CONFIGS), default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--measured-steps", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", action="append", type=parse_variant, required=True)
    parser.add_argument("--busy", type=int, default=0, help="busy loops running beside every run")
    arguments = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(arguments.busy)]
    try:
        measure(arguments)
    finally:
        for process in busy:
            process.kill()


def measure(arguments):
    schema = options_schema()
    tokenizer_directory = os.path.join(arguments.work_directory, "shared-tokenizer")
    runs = {name: [] for name, _ in arguments.variant}
    for repeat in range(arguments.repeats):
        for name, variant in arguments.variant:
            directory = os.path.join(arguments.work_directory, "run")
            result = run_once(arguments, schema, name, variant, directory, tokenizer_directory)
            runs[name].append(result)
            print(json.dumps({"repeat": repeat, **result}), flush=True)
    for name, variant in arguments.variant:
        rates = [run["steps_per_second"] for run in runs[name]]
        summary = {
            "summary": name,
            "options": variant,
            "d_model": arguments.d_model,
            "batch_size": arguments.batch_size,
            "threads": runs[name][0]["threads"],
            "omp_wait_policy": runs[name][0]["omp_wait_policy"],
            "busy": arguments.busy,
            "repeats": len(rates),
            "steps_per_second_median": statistics.median(rates),
            "steps_per_second_min": min(rates),
            "steps_per_second_max": max(rates),
            "last_losses": [run["last_loss"] for run in runs[name]],
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
