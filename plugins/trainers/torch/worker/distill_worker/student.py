"""The student: a T5ForConditionalGeneration or a causal LM (Llama, Qwen2, Qwen3, Gemma 3), pretrained or from a config.

Pretrained sources are resolved and loaded in pretrained_source.py; a from-scratch causal-LM student is
built in scratch_decoder.py; LoRA adapters (lora.py) wrap either after it is built.
"""

import json
import os

from .decoder_encoding import STUDENT_CARD_FILE
from .line_protocol import UserMistake
from .lora import plain_model, with_lora
from .pretrained_source import load_pretrained
from .safe_files import fresh_directory, inside, replace_directory, write_json
from .tokenizer_training import label_tokens_for, load_tokenizer, train_tokenizer

# The published t5-v1_1 dimensions (gated-GELU feed-forward, untied embeddings), and a tiny
# configuration for tests and quick runs.
NAMED_CONFIGS = {
    "t5-v1_1-small": dict(d_model=512, d_ff=1024, d_kv=64, num_heads=6, num_layers=8, num_decoder_layers=8),
    "t5-v1_1-base": dict(d_model=768, d_ff=2048, d_kv=64, num_heads=12, num_layers=12, num_decoder_layers=12),
    "t5-v1_1-large": dict(d_model=1024, d_ff=2816, d_kv=64, num_heads=16, num_layers=24, num_decoder_layers=24),
    "t5-v1_1-xl": dict(d_model=2048, d_ff=5120, d_kv=64, num_heads=32, num_layers=24, num_decoder_layers=24),
    "tiny": dict(d_model=128, d_ff=512, d_kv=32, num_heads=4, num_layers=2, num_decoder_layers=2),
}
# Keys of the student block that only a causal-LM student reads.
DECODER_ONLY_KEYS = ("prompt", "targets", "rationale_separator")
CONFIG_KEYS = ("d_model", "d_ff", "d_kv", "num_heads", "num_layers", "num_decoder_layers", "dropout_rate")


def scratch_config_values(student):
    """The dimensions of a from-scratch student: the named size, overridden by `config`."""
    size = student.get("size") or ("custom" if student.get("config") else "tiny")
    values = dict(NAMED_CONFIGS.get(size, NAMED_CONFIGS["tiny"]))
    overrides = student.get("config") or {}
    unknown = sorted(set(overrides) - set(CONFIG_KEYS))
    if unknown:
        raise UserMistake(f"unknown student.config key(s) {', '.join(unknown)}; known: {', '.join(CONFIG_KEYS)}")
    values.update(overrides)
    values.setdefault("dropout_rate", 0.1)
    return values


def scratch_tokenizer(student, texts, labels, output_directory, decoder=False):
    """The tokenizer of a from-scratch student, trained on `texts` once and reused on resume."""
    tokenizer_directory = inside(output_directory, os.path.join(output_directory, "tokenizer"))
    if not os.path.isfile(os.path.join(tokenizer_directory, "tokenizer.json")):
        settings = student.get("tokenizer") or {"type": "unigram", "vocab_size": 8000}
        temporary = fresh_directory(output_directory, tokenizer_directory + ".tmp")
        train_tokenizer(texts, settings["type"], int(settings["vocab_size"]), temporary, label_tokens_for(labels), decoder=decoder)
        replace_directory(output_directory, temporary, tokenizer_directory)
    return load_tokenizer(tokenizer_directory)


def build_scratch(student, texts, labels, output_directory, seed):
    """A T5 initialised from a config, with a tokenizer trained on `texts` (saved once, reused on resume)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = scratch_tokenizer(student, texts, labels, output_directory)
    values = scratch_config_values(student)
    config = T5Config(
        vocab_size=len(tokenizer),
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        **values,
    )
    # Weights depend only on the seed, so two runs with the same seed start identically.
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    # T5's untied output layer starts at std 1, so initial logits have a standard deviation of
    # √d_model and the first losses sit near 20 nats instead of ln(vocabulary). Large models
    # recover within a few hundred steps; a small student trained for a few hundred steps does
    # not. Scaling it to std d_model^-½ (what tied T5 applies to its output) starts at unit-variance
    # logits (measured on e-SNLI: first loss about 8 instead of 22).
    with torch.no_grad():
        model.lm_head.weight.normal_(mean=0.0, std=values["d_model"] ** -0.5)
    return model, tokenizer


def build_student(student, texts, labels, output_directory, seed):
    """(model, tokenizer, family) of the request's `student` block, with LoRA adapters when it has a `lora` block."""
    if student.get("pretrained"):
        model, tokenizer, family = load_pretrained(student)
    elif student.get("family") == "causal-lm":
        from .scratch_decoder import build_scratch_decoder

        tokenizer = scratch_tokenizer(student, texts, labels, output_directory, decoder=True)
        model, family = build_scratch_decoder(student, tokenizer, seed), "causal-lm"
    else:
        model, tokenizer = build_scratch(student, texts, labels, output_directory, seed)
        family = "t5"
    decoder_only = [key for key in DECODER_ONLY_KEYS if key in student]
    if family == "t5" and decoder_only:
        raise UserMistake(
            f"student.{decoder_only[0]} applies to causal-lm students only; a T5 student has the task prefixes `predict: ` and `explain: `"
        )
    if student.get("lora"):
        model = with_lora(model, student["lora"], family)
    return model, tokenizer, family


def save_model_folder(model, tokenizer, directory, extra=None, card=None):
    """A Hugging Face folder (config, safetensors weights, generation config, tokenizer) for export and inference.

    LoRA adapters are merged into a copy first, so the folder holds a plain model. `card`: the
    `distill-student.json` of a causal-LM student (a T5 folder has none). `directory` is a fresh folder
    of this process (see :func:`safe_files.fresh_directory`): the libraries write into it by path.
    """
    plain_model(getattr(model, "module", model)).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    write_portable_tokenizer_files(tokenizer, directory)
    if card is not None:
        write_json(directory, os.path.join(directory, STUDENT_CARD_FILE), card)
    if extra is not None:
        write_json(directory, os.path.join(directory, "distill-checkpoint.json"), extra)


def write_portable_tokenizer_files(tokenizer, directory):
    """Makes a saved tokenizer folder load in transformers 4 and 5 and in transformers.js.

    transformers 5 no longer writes special_tokens_map.json, which older loaders read, and
    names a tokenizers-backed tokenizer `TokenizersBackend`, a class transformers.js and
    transformers 4 do not know; `PreTrainedTokenizerFast` loads the same tokenizer.json in all
    three (measured: identical ids in transformers 5). `T5Tokenizer` would not: transformers 5
    rebuilds its pre-tokenizer and changes the ids.
    """
    special = {
        "pad_token": tokenizer.pad_token,
        "eos_token": tokenizer.eos_token,
        "unk_token": tokenizer.unk_token,
        "bos_token": tokenizer.bos_token,
    }
    write_json(
        directory, os.path.join(directory, "special_tokens_map.json"), {key: value for key, value in special.items() if value is not None}
    )
    config_path = os.path.join(directory, "tokenizer_config.json")
    if os.path.isfile(config_path):
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
        if config.get("tokenizer_class") == "TokenizersBackend":
            config["tokenizer_class"] = "PreTrainedTokenizerFast"
            write_json(directory, config_path, config)
