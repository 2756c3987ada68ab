"""Training FLOPs of a T5 encoder-decoder for one (input, target) pair, counted from its matrix products.

Useful FLOPs only: computed on the real (unpadded) lengths, so padding a framework executes
counts as waste, not as work. Training costs three forward passes' worth (the backward pass
two), the usual rule. Embedding look-ups, norms, softmax and the loss are left out: they are a
few percent at these sizes and no matrix engine runs them.
"""


def forward_flops(config, input_length, target_length):
    """Multiply-add FLOPs (2 per multiply-add) of one forward pass over one pair.

    `config` holds d_model, d_ff, d_kv, num_heads, num_layers, num_decoder_layers, vocab_size;
    the feed-forward is gated (t5-v1_1: two input projections and one output projection).
    """
    d_model = config["d_model"]
    inner = config["num_heads"] * config["d_kv"]
    d_ff = config["d_ff"]
    encoder_tokens = input_length
    decoder_tokens = target_length
    gated_feed_forward = 3 * d_model * d_ff
    encoder_layer = (
        2 * encoder_tokens * (4 * d_model * inner)  # q, k, v, o projections
        + 2 * encoder_tokens * gated_feed_forward
        + 2 * 2 * encoder_tokens * encoder_tokens * inner  # scores and weighted values
    )
    decoder_layer = (
        2 * decoder_tokens * (4 * d_model * inner)  # self-attention projections
        + 2 * decoder_tokens * (2 * d_model * inner)  # cross-attention q and o
        + 2 * encoder_tokens * (2 * d_model * inner)  # cross-attention k and v over the encoder output
        + 2 * decoder_tokens * gated_feed_forward
        + 2 * 2 * decoder_tokens * decoder_tokens * inner  # self-attention scores and values
        + 2 * 2 * decoder_tokens * encoder_tokens * inner  # cross-attention scores and values
    )
    language_model_head = 2 * decoder_tokens * d_model * config["vocab_size"]
    return config["num_layers"] * encoder_layer + config["num_decoder_layers"] * decoder_layer + language_model_head


def training_flops(config, input_length, target_length):
    """Forward and backward: three forward passes' worth."""
    return 3 * forward_flops(config, input_length, target_length)
