"""The train request: defaults, types and ranges, checked before any work starts.

The TypeScript plugin validates the same options against its JSON Schema; the worker
checks again because it also runs alone from a request file.
"""

from .protocol import UserFacingError

# name: (default, kind, minimum, choices)
TRAINING_OPTIONS = {
    "device": ("auto", "choice", None, ("auto", "cpu", "cuda")),
    "devices": (1, "int", 1, None),
    "batch_size": (16, "int", 1, None),
    "gradient_accumulation": (1, "int", 1, None),
    "learning_rate": (5e-4, "number", 0.0, None),
    "weight_decay": (0.0, "number", 0.0, None),
    "max_steps": (None, "int", 1, None),
    "epochs": (None, "number", 0.0, None),
    "warmup_steps": (0, "int", 0, None),
    "schedule": ("linear", "choice", None, ("linear", "cosine", "constant")),
    "max_grad_norm": (1.0, "number", 0.0, None),
    "eval_every": (250, "int", 1, None),
    "checkpoint_every": (250, "int", 1, None),
    "patience": (None, "int", 1, None),
    "eval_limit": (None, "int", 1, None),
    "eval_batch_size": (64, "int", 1, None),
    "generation_max_tokens": (64, "int", 1, None),
    "threads": (None, "int", 1, None),
    "spinning": (False, "bool", None, None),
    "bf16": ("auto", "bf16", None, None),
    "task_passes": ("separate", "choice", None, ("joint", "separate")),
    "bucket_batches": (50, "int", 1, None),
    "log_every": (1, "int", 1, None),
    "ignore_case": (True, "bool", None, None),
    "tolerance": (1e-4, "number", 0.0, None),
}

METRICS = ("exact-match", "numeric-equality")
NAMED_SIZES = ("t5-v1_1-small", "t5-v1_1-base", "t5-v1_1-large", "t5-v1_1-xl", "tiny", "custom")


def _check(name, value, kind, minimum, choices):
    if kind == "choice":
        if value not in choices:
            raise UserFacingError(f"option `{name}` must be one of {', '.join(choices)}, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise UserFacingError(f"option `{name}` must be true or false, got {value!r}")
        return value
    if kind == "bf16":
        if value not in (True, False, "auto"):
            raise UserFacingError(f"option `bf16` must be true, false or \"auto\", got {value!r}")
        return value
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int" and not (is_number and float(value).is_integer()):
        raise UserFacingError(f"option `{name}` must be an integer, got {value!r}")
    if kind == "number" and not is_number:
        raise UserFacingError(f"option `{name}` must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise UserFacingError(f"option `{name}` must be at least {minimum}, got {value!r}")
    return int(value) if kind == "int" else float(value)


def training_options(raw):
    """Options with defaults filled; unknown names and bad values raise :class:`UserFacingError`."""
    raw = raw or {}
    unknown = sorted(set(raw) - set(TRAINING_OPTIONS))
    if unknown:
        raise UserFacingError(
            f"unknown trainer option(s) {', '.join(unknown)}; known options: {', '.join(sorted(TRAINING_OPTIONS))}"
        )
    options = {}
    for name, (default, kind, minimum, choices) in TRAINING_OPTIONS.items():
        value = raw.get(name, default)
        options[name] = None if value is None else _check(name, value, kind, minimum, choices)
    if options["max_steps"] is None and options["epochs"] is None:
        options["epochs"] = 1.0
    return options


def check_request(request):
    """Checks the parts of a train request other than the options; returns it with options filled."""
    if not isinstance(request, dict):
        raise UserFacingError("the train request must be an object")
    for key in ("output_directory", "data", "student", "alpha", "metric", "seed"):
        if key not in request:
            raise UserFacingError(f"the train request lacks `{key}`")
    data = request["data"]
    if not isinstance(data, dict) or "train" not in data:
        raise UserFacingError("`data` must name at least the `train` file")
    if request["metric"] not in METRICS:
        raise UserFacingError(f"unknown metric {request['metric']!r}; the worker implements {', '.join(METRICS)}")
    alpha = request["alpha"]
    for end in ("start", "end"):
        value = alpha.get(end) if isinstance(alpha, dict) else None
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise UserFacingError(f"`alpha.{end}` must be a number between 0 and 1, got {value!r}")
    student = request["student"]
    size = student.get("size")
    if size is not None and size not in NAMED_SIZES:
        raise UserFacingError(f"unknown student size {size!r}; one of {', '.join(NAMED_SIZES)}")
    return {**request, "resume": bool(request.get("resume", False)), "options": training_options(request.get("options"))}
