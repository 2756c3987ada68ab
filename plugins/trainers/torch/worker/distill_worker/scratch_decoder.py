"""A causal-LM (Llama) student initialised from a config, for from-scratch training (`family: causal-lm`)."""

from .line_protocol import UserMistake

# Small enough for tests and quick runs; `student.config` overrides any of these.
TINY_DECODER_CONFIG = dict(hidden_size=64, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
DECODER_CONFIG_KEYS = tuple(TINY_DECODER_CONFIG)
# Prompt and target together: the longest row a student sees in training is well under this.
MAX_POSITIONS = 4096


def decoder_config_values(student):
    """The dimensions of a from-scratch causal-LM student: the tiny defaults, overridden by `config`."""
    size = student.get("size")
    if size not in (None, "tiny", "custom"):
        raise UserMistake(f"student.size {size!r} names a T5 size; a causal-lm student from scratch takes `config` (Llama dimensions)")
    overrides = student.get("config") or {}
    unknown = sorted(set(overrides) - set(DECODER_CONFIG_KEYS))
    if unknown:
        raise UserMistake(
            f"student.config key(s) {', '.join(unknown)} do not apply to family causal-lm; its keys: {', '.join(DECODER_CONFIG_KEYS)}"
        )
    values = {**TINY_DECODER_CONFIG, **overrides}
    if values["hidden_size"] % values["num_attention_heads"] or values["num_attention_heads"] % values["num_key_value_heads"]:
        raise UserMistake(
            "student.config: hidden_size must be a multiple of num_attention_heads, and num_attention_heads of num_key_value_heads"
        )
    return values


def build_scratch_decoder(student, tokenizer, seed):
    """A LlamaForCausalLM sized by `student.config`, with tied embeddings, its weights drawn from the seed."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **decoder_config_values(student),
    )
    # Weights depend only on the seed, so two runs with the same seed start identically.
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)
