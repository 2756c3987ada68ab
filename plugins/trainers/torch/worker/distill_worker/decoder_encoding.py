"""Prompts and targets of a causal-LM student, as docs/decoder-students.md fixes them.

The settings travel as `distill-student.json` (:func:`student_card`) with every model folder, so that
the exporter and Node inference build the same prompts: the prompt and each target are tokenised
separately and concatenated, so the boundary between them is the same in training, in PyTorch
generation and in Node. Each training row carries a task per token: 0 for the prompt (never
counted), :data:`LABEL` for label tokens, :data:`RATIONALE` for the rationale's (with its separator
and the end token).
"""

from .line_protocol import UserMistake
from .tokenizer_training import label_tokens_for

CARD_FORMAT = 1
STUDENT_CARD_FILE = "distill-student.json"
LABEL = 1
RATIONALE = 2
# A placeholder no chat template changes, to cut the rendered template into the text before and after the message.
MESSAGE_PLACEHOLDER = "\u2063distill-message\u2063"
DEFAULT_PROMPT = {
    "format": "plain",
    "predict": {"prefix": "", "suffix": "\nAnswer:"},
    "explain": {"prefix": "", "suffix": "\nExplanation:"},
    "target_prefix": " ",
}
DEFAULT_SEPARATOR = "\nExplanation:"


def _chat_parts(tokenizer):
    """The chat template rendered around one user message, with the generation prompt: (before, after)."""
    if not getattr(tokenizer, "chat_template", None):
        raise UserMistake(
            "student.prompt.format is chat, but the student's tokenizer has no chat template", fix="use student.prompt.format: plain"
        )
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": MESSAGE_PLACEHOLDER}], tokenize=False, add_generation_prompt=True)
    if rendered.count(MESSAGE_PLACEHOLDER) != 1:
        raise UserMistake("the student's chat template does not render a user message as written", fix="use student.prompt.format: plain")
    before, after = rendered.split(MESSAGE_PLACEHOLDER)
    return {"before": before, "after": after}


def tokenizer_texts(student, examples):
    """The texts a from-scratch causal-LM student's tokenizer learns from: the prompts and targets as it sees them.

    The task markers (`\nAnswer:`, …) then become pieces of their own, as often as they occur in training.
    """
    prompt = {**DEFAULT_PROMPT, **(student.get("prompt") or {})}
    tasks = [{**DEFAULT_PROMPT[task], **(prompt.get(task) or {})} for task in ("predict", "explain")]
    separator = student.get("rationale_separator", DEFAULT_SEPARATOR)
    texts = []
    for example in examples:
        texts += [task["prefix"] + example["input"] + task["suffix"] for task in tasks]
        texts += [prompt["target_prefix"] + example["label"], separator + prompt["target_prefix"] + example["rationale"]]
    return texts


def student_card(student, tokenizer, labels, max_new_tokens):
    """The content of `distill-student.json` for this student (docs/decoder-students.md)."""
    prompt = {**DEFAULT_PROMPT, **(student.get("prompt") or {})}
    tasks = {task: {**DEFAULT_PROMPT[task], **(prompt.get(task) or {})} for task in ("predict", "explain")}
    chat = _chat_parts(tokenizer) if prompt["format"] == "chat" else None
    closed = label_tokens_for(labels)
    return {
        "format": CARD_FORMAT,
        "family": "causal-lm",
        "prompt_format": prompt["format"],
        # A chat template writes its own begin-of-text token; a plain prompt gets the tokenizer's.
        "prompt_special_tokens": chat is None,
        "chat": chat,
        "tasks": tasks,
        "target_prefix": prompt["target_prefix"],
        "targets": student.get("targets") or "two-tasks",
        "rationale_separator": student.get("rationale_separator", DEFAULT_SEPARATOR),
        "max_input_tokens": int(student.get("max_input_length", 512)),
        "max_new_tokens": int(max_new_tokens),
        "labels": closed or None,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def _encode(tokenizer, texts, special_tokens):
    # verbose=False: a prompt longer than model_max_length is cut here (prompt_ids), not an error to warn of.
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=special_tokens, verbose=False)["input_ids"]]


def prompt_ids(card, tokenizer, task, inputs):
    """The prompt ids of `task` for each input, cut in the input (keeping the suffix) to `max_input_tokens`."""
    chat = card["chat"] or {"before": "", "after": ""}
    parts = card["tasks"][task]
    texts = [chat["before"] + parts["prefix"] + text + parts["suffix"] + chat["after"] for text in inputs]
    encoded = _encode(tokenizer, texts, card["prompt_special_tokens"])
    limit = card["max_input_tokens"]
    kept = len(_encode(tokenizer, [parts["suffix"] + chat["after"]], False)[0])
    return [ids if len(ids) <= limit else ids[: max(0, limit - kept)] + ids[len(ids) - kept :] for ids in encoded]


def target_ids(card, tokenizer, texts, limit, end=True):
    """`encode(target_prefix + text)` for each text, cut to `limit` tokens including the end token when `end`."""
    encoded = _encode(tokenizer, [card["target_prefix"] + text for text in texts], False)
    if not end:
        return [ids[:limit] for ids in encoded]
    return [[*ids[: limit - 1], card["eos_token_id"]] for ids in encoded]


def separator_id(card, tokenizer):
    """The first token of the rationale separator: generation of a label stops there."""
    ids = _encode(tokenizer, [card["rationale_separator"]], False)[0]
    return ids[0] if ids else None


def encode_decoder_examples(examples, tokenizer, card, max_target_length, with_rationale):
    """Prompt and target ids of each example, in the keys the T5 encoding uses.

    `two-tasks`: `predict` + `label` (ending with the end token) and `explain` + `rationale` rows.
    `label-then-rationale`: one row `predict` + `label` + `rationale`, where `label` has no end token and
    `rationale` is the separator, the rationale and the end token; `explain` is empty. Without a rationale
    task (α = 1) both layouts train `predict` + `label` + end token.
    """
    inputs = [example["input"] for example in examples]
    label_texts = [example["label"] for example in examples]
    rationale_texts = [example["rationale"] for example in examples]
    predict = prompt_ids(card, tokenizer, "predict", inputs)
    joined = card["targets"] == "label-then-rationale" and with_rationale
    labels = target_ids(card, tokenizer, label_texts, max_target_length, end=not joined)
    if not with_rationale:
        return [{"predict": p, "explain": [], "label": label, "rationale": []} for p, label in zip(predict, labels, strict=True)]
    if joined:
        separated = [card["rationale_separator"] + card["target_prefix"] + text for text in rationale_texts]
        encoded = _encode(tokenizer, separated, False)
        rationales = [[*ids[: max_target_length - 1], card["eos_token_id"]] for ids in encoded]
        explain = [[] for _ in examples]
    else:
        rationales = target_ids(card, tokenizer, rationale_texts, max_target_length)
        explain = prompt_ids(card, tokenizer, "explain", inputs)
    rows = zip(predict, explain, labels, rationales, strict=True)
    return [{"predict": p, "explain": e, "label": label, "rationale": r} for p, e, label, r in rows]


def training_rows(batch, task, joined):
    """(ids, tasks) of each row of a batch: `task` "predict" or "explain", or both targets in one row when `joined`."""
    rows = []
    for item in batch:
        if joined:
            prompt, targets = item["predict"], [(item["label"], LABEL), (item["rationale"], RATIONALE)]
        elif task == "predict":
            prompt, targets = item["predict"], [(item["label"], LABEL)]
        else:
            prompt, targets = item["explain"], [(item["rationale"], RATIONALE)]
        ids, tasks = list(prompt), [0] * len(prompt)
        for target, kind in targets:
            ids += target
            tasks += [kind] * len(target)
        rows.append((ids, tasks))
    return rows
