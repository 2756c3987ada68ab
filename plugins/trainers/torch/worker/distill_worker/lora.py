"""LoRA adapters (`student.lora`): trained instead of the full weights, merged before a model folder is written."""

import copy

# A `lora` block's defaults; target_modules absent means peft's default for the architecture
# (Llama, Qwen: q_proj and v_proj; T5: q and v).
DEFAULT_LORA = {"rank": 8, "alpha": 16, "dropout": 0.05, "target_modules": None}


def with_lora(model, settings, family):
    """The model with LoRA adapters on `target_modules`; only the adapters require gradients."""
    from peft import LoraConfig, get_peft_model

    settings = {**DEFAULT_LORA, **settings}
    config = LoraConfig(
        r=int(settings["rank"]),
        lora_alpha=settings["alpha"],
        lora_dropout=settings["dropout"],
        target_modules=settings["target_modules"] or None,
        task_type="CAUSAL_LM" if family == "causal-lm" else "SEQ_2_SEQ_LM",
    )
    return get_peft_model(model, config)


def is_lora(model):
    """Whether `model` carries LoRA adapters (a peft model)."""
    return hasattr(model, "merge_and_unload")


def plain_model(model):
    """The model without adapters: a merged copy of a LoRA model (training goes on with the adapters), else itself."""
    if not is_lora(model):
        return model
    return copy.deepcopy(model).merge_and_unload()


def base_causal_model(model):
    """The transformers causal LM inside a LoRA model (its layers carry the adapters), else the model itself."""
    return model.get_base_model() if is_lora(model) else model
