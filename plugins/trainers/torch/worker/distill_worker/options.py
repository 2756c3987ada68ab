"""The train request, checked before any work starts; its options against the schema the request carries.

The trainer's options are declared once, in the TypeScript plugin's JSON Schema
(``plugins/trainers/torch/torch-trainer-options.ts``). distill puts the worker's part of that schema
into every request (``options_schema``), so the worker checks names, types and ranges and fills
defaults from it, and declares no option of its own: a request file written by distill carries
everything the worker needs to check it, also when the worker runs alone from that file.
"""

from .line_protocol import UserMistake

METRICS = ("exact-match", "numeric-equality")
NAMED_SIZES = ("t5-v1_1-small", "t5-v1_1-base", "t5-v1_1-large", "t5-v1_1-xl", "tiny", "custom")
# The student block's closed choices (the pipeline schema's `student`), checked again for a worker run alone.
STUDENT_CHOICES = {"family": ("t5", "causal-lm"), "targets": ("two-tasks", "label-then-rationale")}
PROMPT_FORMATS = ("plain", "chat")
REQUIRED_KEYS = ("output_directory", "data", "student", "alpha", "metric", "seed", "options_schema")

_TYPE_NAMES = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string"}
# The JSON Schema keywords the checks below implement; a schema using another one is refused, so that
# no rule of the TypeScript schema goes unchecked here without anyone noticing.
_KEYWORDS = {"type", "enum", "const", "oneOf", "minimum", "exclusiveMinimum", "maximum", "minLength", "default", "description"}


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _has_type(value, type_name):
    """Whether a JSON value has a JSON Schema type (booleans are not numbers, 2.0 is an integer)."""
    if type_name == "integer":
        return _is_number(value) and float(value).is_integer()
    if type_name == "number":
        return _is_number(value)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "string":
        return isinstance(value, str)
    raise ValueError(f"the options schema uses type {type_name!r}, which the worker does not check")


def _same_value(value, expected):
    """JSON equality: `true` is not `1`."""
    return type(value) is type(expected) and value == expected


def _describe(schema):
    """What a schema accepts, in words (for the alternatives of a `oneOf`)."""
    if "const" in schema:
        return json_text(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(str(item) for item in schema["enum"])
    return _TYPE_NAMES.get(schema.get("type"), "a value")


def json_text(value):
    """A value as JSON writes it (`true`, `"auto"`), for messages about JSON values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _range_problem(value, schema):
    """Why a number or string is outside the schema's range, or None."""
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            return f"must be at least {schema['minimum']}"
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return f"must be more than {schema['exclusiveMinimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"must be at most {schema['maximum']}"
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        return f"must have at least {schema['minLength']} characters"
    return None


def value_problem(value, schema):
    """Why `value` does not meet `schema` (the subset of JSON Schema option schemas use), or None."""
    if "oneOf" in schema:
        alternatives = schema["oneOf"]
        if sum(value_problem(value, alternative) is None for alternative in alternatives) == 1:
            return None
        return "must be " + " or ".join(_describe(alternative) for alternative in alternatives)
    if "const" in schema and not _same_value(value, schema["const"]):
        return f"must be {json_text(schema['const'])}"
    if "enum" in schema and not any(_same_value(value, item) for item in schema["enum"]):
        return "must be one of " + ", ".join(str(item) for item in schema["enum"])
    if "type" in schema and not _has_type(value, schema["type"]):
        return f"must be {_TYPE_NAMES.get(schema['type'], schema['type'])}"
    return _range_problem(value, schema)


def _check_keywords(name, schema):
    """Refuses a property schema with a keyword these checks do not implement (a bug, not a user's mistake)."""
    unknown = sorted(set(schema) - _KEYWORDS)
    if unknown:
        raise ValueError(f"the options schema of `{name}` uses {', '.join(unknown)}, which the worker does not check")
    for alternative in schema.get("oneOf", []):
        _check_keywords(name, alternative)


def _normalised(value, schema):
    """Integers as int, numbers as float: what the training code computes with."""
    if schema.get("type") == "integer":
        return int(value)
    if schema.get("type") == "number":
        return float(value)
    return value


def check_options(values, schema):
    """The options, each checked against its property of `schema`, with the schema's defaults filled.

    Unknown names and bad values raise :class:`UserMistake`; an option that is absent and has no
    default is None.
    """
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise UserMistake("`options_schema` must be a JSON Schema object with `properties`")
    properties = schema["properties"]
    values = values if values is not None else {}
    if not isinstance(values, dict):
        raise UserMistake("`options` must be an object")
    unknown = sorted(set(values) - set(properties))
    if unknown:
        raise UserMistake(f"unknown trainer option(s) {', '.join(unknown)}; known options: {', '.join(sorted(properties))}")
    options = {}
    for name, property_schema in properties.items():
        _check_keywords(name, property_schema)
        value = values.get(name, property_schema.get("default"))
        if value is None:
            options[name] = None
            continue
        problem = value_problem(value, property_schema)
        if problem:
            raise UserMistake(f"option `{name}` {problem}, got {value!r}")
        options[name] = _normalised(value, property_schema)
    return options


def _check_alpha(alpha):
    for end in ("start", "end"):
        value = alpha.get(end) if isinstance(alpha, dict) else None
        if not _is_number(value) or not 0 <= value <= 1:
            raise UserMistake(f"`alpha.{end}` must be a number between 0 and 1, got {value!r}")


def _check_student(student):
    size = student.get("size")
    if size is not None and size not in NAMED_SIZES:
        raise UserMistake(f"unknown student size {size!r}; one of {', '.join(NAMED_SIZES)}")
    for key, choices in STUDENT_CHOICES.items():
        if student.get(key) is not None and student[key] not in choices:
            raise UserMistake(f"student.{key} must be one of {', '.join(choices)}, got {student[key]!r}")
    prompt_format = (student.get("prompt") or {}).get("format")
    if prompt_format is not None and prompt_format not in PROMPT_FORMATS:
        raise UserMistake(f"student.prompt.format must be one of {', '.join(PROMPT_FORMATS)}, got {prompt_format!r}")


def check_request(request):
    """Checks a train request; returns it with its options checked and their defaults filled."""
    if not isinstance(request, dict):
        raise UserMistake("the train request must be an object")
    for key in REQUIRED_KEYS:
        if key not in request:
            raise UserMistake(f"the train request lacks `{key}`")
    data = request["data"]
    if not isinstance(data, dict) or "train" not in data:
        raise UserMistake("`data` must name at least the `train` file")
    if request["metric"] not in METRICS:
        raise UserMistake(f"unknown metric {request['metric']!r}; the worker implements {', '.join(METRICS)}")
    _check_alpha(request["alpha"])
    _check_student(request["student"])
    options = check_options(request.get("options"), request["options_schema"])
    if options.get("packing") and request["student"].get("family") == "causal-lm":
        raise UserMistake("option `packing` packs the rows of T5 students only; remove it for this causal-lm student")
    return {**request, "resume": bool(request.get("resume", False)), "options": options}
