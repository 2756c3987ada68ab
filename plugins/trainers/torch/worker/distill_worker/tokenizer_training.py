"""A tokenizer trained on the training inputs and targets (from-scratch students).

For a T5 student the special tokens sit where T5 expects them: ``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2,
and every sequence ends with ``</s>``. For a causal-LM (Llama) student: ``<pad>`` 0, ``<eos>`` 1,
``<unk>`` 2, ``<bos>`` 3, and every sequence starts with ``<bos>``, as Llama's do; the end token is
not ``</s>`` because NLI inputs hold ``</s>`` as text between premise and hypothesis. The folder
holds ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` so
``AutoTokenizer`` and transformers.js load it.
"""

SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]
DECODER_SPECIAL_TOKENS = ["<pad>", "<eos>", "<unk>", "<bos>"]


# A label set this small is closed (NLI's three labels, yes/no): each label gets a token of its own.
MAXIMUM_LABEL_TOKENS = 32


def label_tokens_for(labels):
    """The labels that become whole tokens: those of a closed label set of short, non-empty labels.

    Subword pieces split a label such as `contradiction` into many tokens, of which only the first
    decides the answer; the token-mean loss is then dominated by easy continuation tokens and a
    small student trained from scratch learns the decision slowly (measured on e-SNLI: 300 steps
    stayed at chance with `entailment` as 4 pieces). With one token per label the label loss is
    the decision. Open label sets (CQA answers, SVAMP equations) keep subword pieces.
    """
    distinct = sorted({label.strip() for label in labels})
    if not distinct or len(distinct) > MAXIMUM_LABEL_TOKENS:
        return []
    if any(not label or len(label) > 40 or "\n" in label for label in distinct):
        return []
    return distinct


def train_tokenizer(texts, kind, vocab_size, directory, label_tokens=(), decoder=False):
    """Trains a unigram or BPE tokenizer on `texts`, adds `label_tokens` whole, and saves it to `directory`.

    `decoder`: the special tokens and begin-of-sequence template of a causal-LM student, else T5's.

    `directory` is a fresh folder of this process (see :func:`safe_files.fresh_directory`), renamed
    into place by the caller.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = DECODER_SPECIAL_TOKENS if decoder else SPECIAL_TOKENS
    if kind == "unigram":
        tokenizer = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>", show_progress=False)
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    else:
        from .line_protocol import UserMistake

        raise UserMistake(f"student.tokenizer.type must be unigram or bpe, got {kind!r}")
    # Metaspace like SentencePiece, so decoding restores spaces exactly.
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\n", " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.train_from_iterator(texts, trainer)
    if kind == "unigram":
        tokenizer = _canonical_unigram(tokenizer, specials)
    if decoder:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", tokenizer.token_to_id("<bos>"))]
        )
    else:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))]
        )
    for position, token in enumerate(specials):
        assert tokenizer.token_to_id(token) == position, f"{token} must have id {position}"
    if label_tokens:
        tokenizer.add_tokens([AddedToken(label, single_word=True, normalized=True) for label in label_tokens])
    names = {"pad_token": specials[0], "eos_token": specials[1], "unk_token": specials[2]}
    if decoder:
        names["bos_token"] = specials[3]
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=1_000_000, **names)
    wrapped.save_pretrained(directory)
    from .student import write_portable_tokenizer_files

    write_portable_tokenizer_files(wrapped, directory)


# The unigram trainer gives each character it had to add a score this far above the previous one.
FALLBACK_SCORE_STEP = 0.0001


def _canonical_unigram(tokenizer, specials):
    """The same unigram model with reproducible ids and scores.

    The unigram trainer of `tokenizers` is not deterministic between processes (measured: four
    runs on 2,215 e-SNLI examples gave four different files with the same set of pieces). Its
    hash sets are randomly seeded: every character of the texts that did not survive as a piece
    is added back with the score `lowest + 0.0001 * i`, `i` counting up in hash order, so these
    fallback characters swap scores and ids from run to run, and a learned piece that ties with
    one of them swaps places with it. Two runs with the same seed must train the same student, so
    the fallback characters (single characters on that 0.0001 grid above the lowest score) get
    the grid's scores in character order, all scores are rounded to 1e-6, and pieces are ordered
    by (score, piece) after the special tokens. BPE training is deterministic as it is.
    """
    import json

    from tokenizers import Tokenizer

    document = json.loads(tokenizer.to_str())
    vocabulary = [(piece, score) for piece, score in document["model"]["vocab"]]
    special = sorted((entry for entry in vocabulary if entry[0] in specials), key=lambda entry: specials.index(entry[0]))
    others = [entry for entry in vocabulary if entry[0] not in specials]
    characters = [(piece, score) for piece, score in others if len(piece) == 1]
    lowest = min((score for _, score in others), default=0.0)

    def on_fallback_grid(score):
        steps = (score - lowest) / FALLBACK_SCORE_STEP
        return 0 <= round(steps) < len(characters) and abs(steps - round(steps)) < 1e-3

    fallback = sorted(piece for piece, score in characters if on_fallback_grid(score))
    fallback_scores = {piece: lowest + FALLBACK_SCORE_STEP * rank for rank, piece in enumerate(fallback)}
    rescored = [[piece, round(fallback_scores.get(piece, score), 6)] for piece, score in others]
    rescored.sort(key=lambda entry: (-entry[1], entry[0]))
    document["model"]["vocab"] = [list(entry) for entry in special] + rescored
    document["model"]["unk_id"] = specials.index("<unk>")
    return Tokenizer.from_str(json.dumps(document))


def load_tokenizer(directory):
    """The saved tokenizer, loaded the way inference loads it, so training sees the same ids."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory)
