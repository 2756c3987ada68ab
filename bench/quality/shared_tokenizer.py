"""One tokenizer for every method of a quality-bench cell, trained as the worker trains a student's.

    python shared_tokenizer.py --examples TRAIN.jsonl --student STUDENT.json --output DIR

TRAIN.jsonl holds the cell's training examples (`input`, `label`, `rationale`) with every rationale
the teacher gave, whatever the method will train on; STUDENT.json is the trainer request's `student`
block (its `tokenizer` settings). The tokenizer is trained by the worker's own `scratch_tokenizer` on
the texts the worker would take from these examples (inputs, labels and rationales), into
`DIR/tokenizer`. The bench copies that folder into each training's output folder, where the worker
finds it and uses it instead of training its own: standard finetuning (whose examples carry no
rationale) and step-by-step then share one vocabulary, and differ in their loss only. Prints one
JSON line: the folder and the vocabulary size.
"""

import argparse
import json
import os
import sys

WORKER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "plugins", "trainers", "torch", "worker"
)
sys.path.insert(0, WORKER)

from distill_worker.student import scratch_tokenizer  # noqa: E402 - found through the sys.path entry above


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="JSONL file: the training examples, every rationale kept")
    parser.add_argument("--student", required=True, help="JSON file: the student block")
    parser.add_argument("--output", required=True, help="folder to write the tokenizer folder into")
    arguments = parser.parse_args()
    with open(arguments.student, encoding="utf-8") as handle:
        student = json.load(handle)
    with open(arguments.examples, encoding="utf-8") as handle:
        examples = [json.loads(line) for line in handle if line.strip()]
    # The texts the worker's `TrainingRun.build_model` gives a from-scratch T5 student's tokenizer.
    texts = [text for example in examples for text in (example["input"], example["label"], example["rationale"]) if text]
    labels = [example["label"] for example in examples]
    os.makedirs(arguments.output, exist_ok=True)
    tokenizer = scratch_tokenizer(student, texts, labels, arguments.output)
    print(json.dumps({"tokenizer": os.path.join(arguments.output, "tokenizer"), "vocabulary": len(tokenizer)}))


if __name__ == "__main__":
    main()
