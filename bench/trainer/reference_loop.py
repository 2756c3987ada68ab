"""Reference training loop: Distilling Step-by-Step's multi-task training as the paper describes it.

Hugging Face ``Seq2SeqTrainer`` with a task-prefix loss computed by two forward passes per batch:
``predict: <input>`` → label and ``explain: <input>`` → rationale, loss = α·CE(label) +
(1−α)·CE(rationale), each the model's own token-mean cross-entropy (Hsieh et al., 2023,
§3.2; ``docs/method.md`` §3). Written for the benchmark from that description:

- each example is tokenised twice (both prefixes), truncated to the maximum lengths, unpadded;
- a collator (``DataCollatorForSeq2Seq``, dynamic padding to the longest in the batch, labels
  padded with -100, decoder inputs from the labels) builds a ``pred`` and an ``expl`` batch from
  the same examples;
- ``compute_loss`` runs the model on each and mixes the two losses with α;
- everything else is the trainer's defaults: AdamW (``adamw_torch_fused``), linear schedule,
  gradient clipping at 1.0, random sampling, fp32;
- the options a Hugging Face user turns on for speed: ``--bf16`` (``bf16=True``: the trainer's own
  bf16 mixed precision, autocast through accelerate, on a CPU too; whether autocast really was on
  inside ``compute_loss`` is printed) and ``--group-by-length`` (``train_sampling_strategy=
  "group_by_length"``, the ``group_by_length=True`` of transformers 4: ``LengthGroupedSampler`` over the
  lengths the trainer computes itself, ``len(input_ids)`` of each feature, i.e. the ``predict:`` input).

Evaluation and checkpointing are off: the benchmark times training steps only (the worker's
evaluation is outside its timed steps too).

    python reference_loop.py --data train.jsonl --tokenizer TOKENIZER_DIR --config '{"d_model": 256, ...}' \
        --batch-size 16 --steps 60 --threads 2 --output-directory DIR

Prints one JSON line: the time after every optimizer step, the tokens and the executed and real
matmul FLOPs (``model_flops.training_flops`` at the padded and at the unpadded lengths) of every
collated batch, whether autocast was on, the parameter count.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from model_flops import training_flops  # a sibling script, found through the sys.path entry above


def read_examples(path):
    """``{input, label, rationale}`` records from JSON Lines."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--tokenizer", required=True, help="a Hugging Face tokenizer folder")
    parser.add_argument("--config", required=True, help="T5 dimensions as JSON")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--max-input-length", type=int, default=128)
    parser.add_argument("--max-target-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bf16", action="store_true", help="the trainer's own bf16 mixed precision (autocast on the CPU)")
    parser.add_argument("--group-by-length", action="store_true", help="the trainer's length-grouped sampling")
    parser.add_argument("--output-directory", required=True)
    arguments = parser.parse_args()

    import torch

    torch.set_num_threads(arguments.threads)
    from transformers import (
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        T5Config,
        T5ForConditionalGeneration,
        TrainerCallback,
    )

    tokenizer = AutoTokenizer.from_pretrained(arguments.tokenizer)
    dimensions = json.loads(arguments.config)
    config = T5Config(
        vocab_size=len(tokenizer),
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        **dimensions,
    )
    torch.manual_seed(arguments.seed)
    model = T5ForConditionalGeneration(config)

    examples = read_examples(arguments.data)

    def tokenize(texts, limit):
        return tokenizer(texts, max_length=limit, truncation=True)

    inputs = [example["input"] for example in examples]
    predict = tokenize(["predict: " + text for text in inputs], arguments.max_input_length)
    explain = tokenize(["explain: " + text for text in inputs], arguments.max_input_length)
    labels = tokenize([example["label"] for example in examples], arguments.max_target_length)
    rationales = tokenize([example.get("rationale") or "" for example in examples], arguments.max_target_length)
    features = [
        {
            "input_ids": predict["input_ids"][index],
            "attention_mask": predict["attention_mask"][index],
            "labels": labels["input_ids"][index],
            "expl_input_ids": explain["input_ids"][index],
            "expl_attention_mask": explain["attention_mask"][index],
            "aux_labels": rationales["input_ids"][index],
        }
        for index in range(len(examples))
    ]

    collated_tokens, executed_flops, real_flops = [], [], []
    flops_config = dict(dimensions, vocab_size=len(tokenizer))
    autocast_seen = {}

    class TaskPrefixDataCollator(DataCollatorForSeq2Seq):
        """Splits each feature into a `pred` and an `expl` feature and pads each batch separately."""

        def __call__(self, batch, return_tensors=None):
            pred_features = [
                {"input_ids": item["input_ids"], "attention_mask": item["attention_mask"], "labels": item["labels"]} for item in batch
            ]
            expl_features = [
                {"input_ids": item["expl_input_ids"], "attention_mask": item["expl_attention_mask"], "labels": item["aux_labels"]}
                for item in batch
            ]
            collated_tokens.append(
                sum(len(item["input_ids"]) + len(item["labels"]) + len(item["expl_input_ids"]) + len(item["aux_labels"]) for item in batch)
            )
            # Executed: every row of a task runs at the batch's longest input and target; real: each at its own.
            pairs = [("input_ids", "labels"), ("expl_input_ids", "aux_labels")]
            executed_flops.append(
                sum(
                    len(batch)
                    * training_flops(flops_config, max(len(item[source]) for item in batch), max(len(item[target]) for item in batch))
                    for source, target in pairs
                )
            )
            real_flops.append(
                sum(training_flops(flops_config, len(item[source]), len(item[target])) for item in batch for source, target in pairs)
            )
            return {
                "pred": super().__call__(pred_features, return_tensors),
                "expl": super().__call__(expl_features, return_tensors),
            }

    class TaskPrefixTrainer(Seq2SeqTrainer):
        """α·CE(label) + (1−α)·CE(rationale), one forward pass per task."""

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            pred_outputs = model(**inputs["pred"])
            expl_outputs = model(**inputs["expl"])
            loss = arguments.alpha * pred_outputs.loss + (1 - arguments.alpha) * expl_outputs.loss
            return (loss, {"pred": pred_outputs, "expl": expl_outputs}) if return_outputs else loss

    def record_autocast(module, inputs, output):
        """Inside the model's forward (accelerate wraps `forward` itself in autocast): is autocast on, and what the head computes in."""
        if not autocast_seen:
            autocast_seen.update(
                enabled=torch.is_autocast_enabled("cpu"),
                dtype=str(torch.get_autocast_dtype("cpu")).removeprefix("torch."),
                lm_head_output=str(output.dtype).removeprefix("torch."),
            )

    model.lm_head.register_forward_hook(record_autocast)

    step_times = []

    class StepClock(TrainerCallback):
        """The wall-clock time after every optimizer step."""

        def on_step_end(self, args, state, control, **kwargs):
            step_times.append(time.perf_counter())

    training_arguments = Seq2SeqTrainingArguments(
        output_dir=arguments.output_directory,
        remove_unused_columns=False,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        max_steps=arguments.steps,
        learning_rate=arguments.learning_rate,
        per_device_train_batch_size=arguments.batch_size,
        gradient_accumulation_steps=1,
        predict_with_generate=True,
        seed=arguments.seed,
        use_cpu=True,
        bf16=arguments.bf16,
        train_sampling_strategy="group_by_length" if arguments.group_by_length else "random",
        dataloader_num_workers=0,
    )
    trainer = TaskPrefixTrainer(
        model=model,
        args=training_arguments,
        train_dataset=features,
        data_collator=TaskPrefixDataCollator(tokenizer=tokenizer, model=model),
        processing_class=tokenizer,
        callbacks=[StepClock()],
    )
    started = time.perf_counter()
    trainer.train()
    print(
        json.dumps(
            {
                "steps": len(step_times),
                "step_seconds_since_start": [moment - started for moment in step_times],
                "collated_tokens": collated_tokens,
                "executed_flops": executed_flops,
                "real_flops": real_flops,
                "autocast": autocast_seen,
                "sampling": training_arguments.train_sampling_strategy,
                "parameters": sum(parameter.numel() for parameter in model.parameters()),
                "threads": torch.get_num_threads(),
                "bf16": arguments.bf16,
                "optimizer": training_arguments.optim if isinstance(training_arguments.optim, str) else training_arguments.optim.value,
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
