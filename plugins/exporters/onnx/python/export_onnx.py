"""Exports a Hugging Face T5 or causal-LM checkpoint folder to the ONNX layout that transformers.js loads.

A folder with `distill-student.json` (family `causal-lm`), or whose config names a llama, qwen2, qwen3
or gemma3_text model, is a decoder-only student: causal_lm_export.py writes `onnx/model.onnx` (input_ids,
attention_mask, position_ids, past_key_values.{i}.key|value -> logits, present.{i}.key|value), see
docs/decoder-students.md, and `distill-student.json` is copied beside it. A T5 folder is written as
follows; the rest of this text is about T5.

Writes, into the output folder:
    config.json, generation_config.json, tokenizer.json, tokenizer_config.json (+ special_tokens_map.json)
    onnx/encoder_model.onnx          input_ids, attention_mask -> last_hidden_state
    onnx/decoder_model_merged.onnx   input_ids, encoder_attention_mask, encoder_hidden_states,
                                     past_key_values.{i}.decoder.key|value, past_key_values.{i}.encoder.key|value
                                     -> logits, present.{i}.decoder.key|value, present.{i}.encoder.key|value
    onnx/*_quantized.onnx            with --quantize: int8 dynamic quantisation of both graphs

The decoder is "merged" in the sense transformers.js needs: one graph serves the first step (past
length 0, which transformers.js feeds as zero-length tensors) and every later step (past length n).
Both caches are concatenated rather than switched on, so no `If` node and no `use_cache_branch`
input are needed: the self-attention cache gains the new token's keys and values, and the
cross-attention cache gains the projections of the encoder positions it does not hold yet (all of
them on the first step, none afterwards). transformers.js only feeds the inputs a session declares
and keeps `present.*.encoder.*` from the first step, so it works with this graph unchanged.

The graphs are written from our own forward pass over the checkpoint's own modules (layer norms,
projections, feed-forward blocks, a table of T5's relative position biases) rather than by tracing
Hugging Face's cache objects, so that inputs, outputs and dynamic dimension names are exactly the ones
above whatever the transformers version; the program checks the result against PyTorch before it reports.

Protocol: distill's JSON-lines protocol (line_protocol.py, docs/trainer-protocol.md): `hello` with the
package versions, `progress` lines ({"type": "progress", "message"}), then `done` ({"files",
"max_logit_difference"}) or `error` (kind "user" with a fix, or "internal" with the traceback).
Exit status 0 on success, 2 for a user mistake, 1 for a bug.
"""

import argparse
import json
import os
import re
import shutil
import sys

from line_protocol import UserMistake, emit, package_versions, reserve_stdout, run_reporting_errors, say_hello
from logit_check import checked_difference

# The packages the export runs with, reported in the handshake.
EXPORT_PACKAGES = ("torch", "transformers", "onnx", "onnxruntime")
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
REQUIRED_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"]
WEIGHT_FILES = ["model.safetensors", "pytorch_model.bin", "model.safetensors.index.json"]
# Written by the trainer into every decoder student's folder and copied next to the graph.
STUDENT_DESCRIPTOR = "distill-student.json"
T5_MODEL_TYPES = ("t5", "mt5")
CAUSAL_LM_MODEL_TYPES = ("llama", "qwen2", "qwen3", "gemma3_text")


def check_checkpoint(directory):
    """Fails with a user mistake naming every missing file of a Hugging Face model folder; returns its
    family, `t5` or `causal-lm` (docs/decoder-students.md)."""
    if not os.path.isdir(directory):
        raise UserMistake(
            f"checkpoint folder {directory} does not exist",
            "pass the folder the trainer wrote (it holds config.json and model.safetensors)",
        )
    missing = [name for name in REQUIRED_FILES if not os.path.isfile(os.path.join(directory, name))]
    if not any(os.path.isfile(os.path.join(directory, name)) for name in WEIGHT_FILES):
        missing.append("model.safetensors")
    if missing:
        raise UserMistake(
            f"checkpoint folder {directory} lacks {', '.join(missing)}",
            "pass a Hugging Face model folder saved with save_pretrained (model and tokenizer)",
        )
    return student_family(directory)


def read_json_file(path):
    """A JSON object from a file of the checkpoint; anything else is a user mistake naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserMistake(f"{path} is not valid JSON: {error}", "save the folder again with save_pretrained") from None
    if not isinstance(value, dict):
        raise UserMistake(f"{path} holds {type(value).__name__}, not a JSON object", "save the folder again with save_pretrained")
    return value


def student_family(directory):
    """`t5` or `causal-lm`: what `distill-student.json` says (the trainer writes it into decoder folders),
    else what config.json's model_type implies; any other model is a user mistake naming the supported ones."""
    model_type = read_json_file(os.path.join(directory, "config.json")).get("model_type")
    supported = f"supported: {', '.join(T5_MODEL_TYPES + CAUSAL_LM_MODEL_TYPES)}"
    descriptor = os.path.join(directory, STUDENT_DESCRIPTOR)
    if os.path.isfile(descriptor):
        family = read_json_file(descriptor).get("family")
        if family != "causal-lm":
            raise UserMistake(
                f"{descriptor} names the student family {family!r}; the exporter knows 'causal-lm' there "
                f"(T5 folders have no {STUDENT_DESCRIPTOR})",
                "export a folder written by distill's trainer, or correct its family",
            )
        if model_type not in CAUSAL_LM_MODEL_TYPES:
            raise UserMistake(
                f"checkpoint folder {directory} holds a {model_type!r} causal LM, which the exporter does not support ({supported})",
                "train a llama, qwen2, qwen3 or gemma3_text student (SmolLM2, Qwen2.5, Qwen3, Llama 3.2, Gemma 3)",
            )
        return "causal-lm"
    if model_type in T5_MODEL_TYPES:
        return "t5"
    if model_type in CAUSAL_LM_MODEL_TYPES:
        return "causal-lm"
    raise UserMistake(
        f"checkpoint folder {directory} holds a {model_type!r} model, which the exporter does not support ({supported})",
        "export a T5 student, or a llama, qwen2, qwen3 or gemma3_text causal-LM student",
    )


def load_model(model_class, checkpoint):
    """The checkpoint's model, its weights read as plain tensors only: a pickle in the folder never runs.

    model.safetensors is preferred where it is there (transformers' own order); a pytorch_model.bin is
    read with weights_only (transformers' default, stated here), which refuses any object but tensors.
    """
    import pickle

    try:
        return model_class.from_pretrained(checkpoint, attn_implementation="eager", weights_only=True).eval()
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        raise UserMistake(
            f"the weights in {checkpoint} are a pickle that asks for {found.group(1) if found else 'objects other than tensors'}; "
            "they were not loaded",
            "export a folder saved with safetensors (model.safetensors), as the trainer writes it",
        ) from None


def import_torch():
    """Imports torch lazily so that argument and folder errors do not wait for it."""
    import torch

    return torch


def export_encoder(encoder, sample, path, opset):
    """Writes the encoder graph to `path`."""
    torch = import_torch()
    axes = {0: "batch_size", 1: "encoder_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (sample["input_ids"], sample["attention_mask"]),
            path,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={name: dict(axes) for name in ("input_ids", "attention_mask", "last_hidden_state")},
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True,
        )


def decoder_cache_sample(config, batch, lengths):
    """Random past tensors for tracing the decoder, with their input and output names and dynamic axes."""
    torch = import_torch()
    past, past_names, present_names, dynamic_axes = [], [], [], {}
    present_lengths = {"decoder": "past_decoder_sequence_length + 1", "encoder": "encoder_sequence_length"}
    for index in range(config.num_decoder_layers):
        for kind in ("decoder", "encoder"):
            for part in ("key", "value"):
                past.append(torch.randn(batch, config.num_heads, lengths[kind], config.d_kv))
                past_name = f"past_key_values.{index}.{kind}.{part}"
                present_name = f"present.{index}.{kind}.{part}"
                past_names.append(past_name)
                present_names.append(present_name)
                dynamic_axes[past_name] = {0: "batch_size", 2: f"past_{kind}_sequence_length"}
                dynamic_axes[present_name] = {0: "batch_size", 2: present_lengths[kind]}
    return past, past_names, present_names, dynamic_axes


def export_decoder(decoder, encoder, sample, path, opset):
    """Writes the merged decoder graph (both caches) to `path`."""
    torch = import_torch()
    config = sample["config"]
    with torch.no_grad():
        encoder_hidden_states = encoder(sample["input_ids"], sample["attention_mask"])
    decoder_input_ids = torch.randint(3, config.vocab_size, (sample["batch"], 1), dtype=torch.long)
    # Traced with a partly filled cross-attention cache, so that the slice of encoder positions still
    # to project stays a computed one (its start is the past length, 0 or encoder_sequence_length in use).
    lengths = {"decoder": sample["past_length"], "encoder": sample["encoder_length"] - 2}
    past, past_names, present_names, cache_axes = decoder_cache_sample(config, sample["batch"], lengths)
    dynamic_axes = {
        "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
        "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
        "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
        "logits": {0: "batch_size", 1: "decoder_sequence_length"},
        **cache_axes,
    }
    with torch.no_grad():
        torch.onnx.export(
            decoder,
            (decoder_input_ids, sample["attention_mask"], encoder_hidden_states, *past),
            path,
            input_names=["input_ids", "encoder_attention_mask", "encoder_hidden_states", *past_names],
            output_names=["logits", *present_names],
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True,
        )


def export_graphs(model, output_directory, opset):
    """Writes encoder_model.onnx and decoder_model_merged.onnx; returns their relative paths."""
    torch = import_torch()
    from t5_onnx_modules import build_wrappers

    config = model.config
    encoder, decoder = build_wrappers(model)
    onnx_directory = os.path.join(output_directory, "onnx")
    os.makedirs(onnx_directory, exist_ok=True)
    batch, encoder_length, past_length = 2, 7, 3
    sample = {"config": config, "batch": batch, "encoder_length": encoder_length, "past_length": past_length}
    sample["input_ids"] = torch.randint(3, config.vocab_size, (batch, encoder_length), dtype=torch.long)
    sample["attention_mask"] = torch.ones(batch, encoder_length, dtype=torch.long)
    sample["attention_mask"][1, -2:] = 0
    emit("progress", message="exporting the encoder")
    export_encoder(encoder, sample, os.path.join(onnx_directory, "encoder_model.onnx"), opset)
    emit("progress", message="exporting the decoder with its self- and cross-attention caches")
    export_decoder(decoder, encoder, sample, os.path.join(onnx_directory, "decoder_model_merged.onnx"), opset)
    return ["onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx"]


def check_against_pytorch(model, output_directory):
    """Runs both graphs in onnxruntime on a random batch and compares with PyTorch; fails on a mismatch.

    Returns the largest absolute logit difference.
    """
    torch = import_torch()
    import numpy
    import onnxruntime

    config = model.config
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    encoder = onnxruntime.InferenceSession(os.path.join(output_directory, "onnx", "encoder_model.onnx"), options)
    decoder = onnxruntime.InferenceSession(os.path.join(output_directory, "onnx", "decoder_model_merged.onnx"), options)
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(3, config.vocab_size, (2, 5), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[0, -1] = 0
    decoder_ids = torch.randint(3, config.vocab_size, (2, 3), generator=generator)
    decoder_ids[:, 0] = config.decoder_start_token_id
    with torch.no_grad():
        expected = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_ids).logits.numpy()
    hidden = encoder.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
    # Empty caches on the first step, as transformers.js and core/inference feed them.
    feeds = {
        f"past_key_values.{index}.{kind}.{part}": numpy.zeros((2, config.num_heads, 0, config.d_kv), dtype=numpy.float32)
        for index in range(config.num_decoder_layers)
        for kind in ("decoder", "encoder")
        for part in ("key", "value")
    }
    output_names = [output.name for output in decoder.get_outputs()]
    worst = 0.0
    for step in range(decoder_ids.shape[1]):
        feeds.update(
            {
                "input_ids": decoder_ids[:, step : step + 1].numpy(),
                "encoder_attention_mask": attention_mask.numpy(),
                "encoder_hidden_states": hidden,
            }
        )
        outputs = dict(zip(output_names, decoder.run(None, feeds), strict=True))
        worst = max(worst, float(numpy.abs(outputs["logits"][:, 0, :] - expected[:, step, :]).max()))
        for name, value in outputs.items():
            if name.startswith("present."):
                feeds[name.replace("present.", "past_key_values.")] = value
    return checked_difference(worst, expected)


def quantize(output_directory, names):
    """int8 dynamic quantisation of the graphs `names` (without .onnx), named as transformers.js expects for dtype 'q8'."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    written = []
    for name in names:
        source = os.path.join(output_directory, "onnx", f"{name}.onnx")
        target = os.path.join(output_directory, "onnx", f"{name}_quantized.onnx")
        emit("progress", message=f"quantising {name} to int8")
        # MatMul only: quantising Gather (the embeddings) would also quantise the token lookups,
        # which costs accuracy on a small vocabulary for little size gain at student scale.
        # Per-channel scales: measured on a tiny e-SNLI student, 75.0% agreement with fp32 against
        # 73.5% per-tensor (200 test examples), at the same size.
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True)
        written.append(f"onnx/{name}_quantized.onnx")
    return written


def remove_stale_graphs(output_directory):
    """Deletes graphs of an earlier export into the same folder, so that an export without
    --quantize does not leave old int8 graphs beside new fp32 ones."""
    onnx_directory = os.path.join(output_directory, "onnx")
    if not os.path.isdir(onnx_directory):
        return
    for name in os.listdir(onnx_directory):
        if name.startswith(("encoder_model", "decoder_model", "model.", "model_quantized.")) and (
            name.endswith(".onnx") or name.endswith(".onnx_data")
        ):
            os.remove(os.path.join(onnx_directory, name))


def copy_metadata(checkpoint, output_directory, model):
    """Copies config and tokenizer files; writes generation_config.json when the checkpoint lacks it."""
    written = []
    for name in ["config.json", *TOKENIZER_FILES, "generation_config.json", STUDENT_DESCRIPTOR]:
        source = os.path.join(checkpoint, name)
        if os.path.isfile(source):
            shutil.copyfile(source, os.path.join(output_directory, name))
            written.append(name)
    if "generation_config.json" not in written:
        model.generation_config.save_pretrained(output_directory)
        written.append("generation_config.json")
    pin_decoding_settings(checkpoint, output_directory)
    return written


def pin_decoding_settings(checkpoint, output_directory):
    """Writes `clean_up_tokenization_spaces` into the exported tokenizer_config.json as the Python
    tokenizer applies it. transformers 5 defaults it to false, transformers.js and
    @huggingface/tokenizers to true when the key is absent; cleaning up turns `a ,` into `a,` and
    collapses space runs, so without the key Node would decode other text than the trainer scored.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    path = os.path.join(output_directory, "tokenizer_config.json")
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    config["clean_up_tokenization_spaces"] = bool(getattr(tokenizer, "clean_up_tokenization_spaces", False))
    # transformers 5 names the class of a tokenizer.json-only tokenizer `TokenizersBackend`, which
    # transformers 4 and transformers.js do not know; `PreTrainedTokenizerFast` loads the same file in all.
    if config.get("tokenizer_class") in (None, "TokenizersBackend"):
        config["tokenizer_class"] = "PreTrainedTokenizerFast"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)


def load_causal_lm(checkpoint):
    """A llama / qwen2 / qwen3 / gemma3_text checkpoint the decoder graph can compute; anything else is a user mistake."""
    from decoder_onnx_modules import check_supported
    from huggingface_hub.errors import StrictDataclassError
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(checkpoint)
    except (StrictDataclassError, ValueError) as error:
        # transformers 5 validates every field's type (a soft cap of 30 where it wants 30.0 fails).
        raise UserMistake(
            f"{os.path.join(checkpoint, 'config.json')} is not a valid model config: {str(error).splitlines()[0]}",
            "correct the field it names, or save the folder again with save_pretrained",
        ) from None
    reason = check_supported(config)
    if reason is not None:
        raise UserMistake(
            f"cannot export {checkpoint}: {reason}",
            "export a llama, qwen2, qwen3 or gemma3_text student with a static rope, attending causally",
        )
    return load_model(AutoModelForCausalLM, checkpoint)


def export(arguments):
    """Checks the checkpoint, exports, verifies, quantises; returns the exit status."""
    family = check_checkpoint(arguments.checkpoint)
    torch = import_torch()
    torch.set_num_threads(arguments.threads)

    emit("progress", message=f"loading {arguments.checkpoint}")
    if family == "causal-lm":
        from causal_lm_export import check_decoder_against_pytorch, complete_config, export_decoder_graph

        model = load_causal_lm(arguments.checkpoint)
    else:
        from transformers import T5ForConditionalGeneration

        model = load_model(T5ForConditionalGeneration, arguments.checkpoint)
    model.float()
    os.makedirs(arguments.output, exist_ok=True)
    remove_stale_graphs(arguments.output)
    files = copy_metadata(arguments.checkpoint, arguments.output, model)
    if family == "causal-lm":
        complete_config(model, arguments.output)
        files += export_decoder_graph(model, arguments.output, arguments.opset, emit)
        emit("progress", message="checking the graph against PyTorch")
        difference = check_decoder_against_pytorch(model, arguments.output)
        graphs = ["model"]
    else:
        files += export_graphs(model, arguments.output, arguments.opset)
        emit("progress", message="checking the graphs against PyTorch")
        difference = check_against_pytorch(model, arguments.output)
        graphs = ["encoder_model", "decoder_model_merged"]
    if arguments.quantize:
        files += quantize(arguments.output, graphs)
    emit("done", files=files, max_logit_difference=difference)
    return 0


def main():
    """Parses arguments, says hello, exports, and reports on stdout as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--quantize", action="store_true")
    parser.add_argument("--opset", type=int, default=14)
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    # torch.onnx and onnxruntime print to stdout; only protocol lines may go there.
    reserve_stdout()
    say_hello("export-onnx", package_versions(EXPORT_PACKAGES))
    return run_reporting_errors(lambda: export(arguments))


if __name__ == "__main__":
    sys.exit(main())
