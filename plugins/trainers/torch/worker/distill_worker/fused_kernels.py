"""Faster kernels for a T5 student's activation and dropout, computing the same functions (option `fused_kernels`).

A small student spends about half of a CPU training step outside its matrix products (measured with
torch.profiler at d_model 256, batch 16, one thread: 28% of the step in `mm`/`bmm`), and two of the
largest items are modules that can compute the same thing for less:

- **GELU.** A gated-gelu T5 (T5 v1.1, Flan-T5, the worker's scratch students) uses transformers'
  ``NewGELUActivation``, the tanh approximation written as seven tensor operations, each a pass over
  the `d_ff`-wide activations and each kept for the backward pass. ``F.gelu(approximate="tanh")`` is
  the same formula in one kernel (forward and backward 4.98 → 2.72 ms on a bf16 [8, 60, 1024] tensor;
  within 2.4e-7 of it in fp32, and closer to the exact value in bf16, where the seven operations round
  after each step).
- **Dropout on a CPU.** ``torch.bernoulli_`` on a CPU tensor draws its numbers one element at a time
  (about 6 ns each on this workplace's Intel Xeon with PyPI torch 2.13, measured: no vectorised path),
  so dropout cost 8% of a step. :class:`RandomBitsDropout` draws 64-bit words instead (one draw serves
  four elements) and drops an element where its 16-bit share falls below ``round(p·65536)``: dropout
  with probability p rounded to a multiple of 2⁻¹⁶ (0.1 becomes 0.1000061), kept elements scaled by the
  inverse of the exact keep probability, so the expected output is the input, as with ``nn.Dropout``.
  Forward and backward on an fp32 [8, 60, 1024] tensor: 4.3 → 2.4 ms. On a GPU (Philox, fast), in
  evaluation and for a p that rounds to 1 it is ``F.dropout`` itself.

- **Attention on a CPU.** transformers runs T5's attention through ``scaled_dot_product_attention``
  with the position bias as a float mask that needs a gradient, which on a CPU leaves only PyTorch's
  reference ("math") kernel: it casts the bf16 queries, keys and values to fp32 and back, and draws the
  attention weights' dropout with ``bernoulli_``. :func:`fused_t5_attention` is transformers' own eager
  attention (bf16 products under autocast, fp32 softmax) with the weights' dropout drawn as
  :class:`RandomBitsDropout` draws it; registered under :data:`FUSED_ATTENTION` with eager's additive
  masks, for a T5 on a CPU only (a GPU keeps its fused kernels). Same logits and gradient as sdpa without
  dropout (float rounding); a T5 step at d_model 256 (forward and backward, batch 8, one thread) 216 →
  192 ms in a one-off check.

- **The feed-forward under autocast.** transformers casts the input of a T5 feed-forward block's output
  layer to that layer's weight precision (fp32, kept so for 8-bit Flan-T5 XXL), and autocast casts it
  straight back to bf16 for the product: two passes over the `d_ff`-wide activations forward and two
  backward, for the same bf16 values (the round trip is exact). Under autocast the block skips the
  round trip; outside autocast, and where its output layer is not a plain ``nn.Linear`` (a LoRA
  wrapper), it is transformers' own.
- **The embedding gradient on a CPU.** A T5's input embeddings are looked up twice a pass (encoder and
  decoder) and, tied, also form the output layer. A dense lookup gradient is a zeroed copy of the whole
  table per lookup, added to the others (at d_model 256 and a 7,232-token vocabulary, 7.4 MB each,
  several times a pass). :func:`use_sparse_embedding_gradients` has the lookups give their gradient as
  the rows looked up (``nn.Embedding(sparse=True)``), added into the dense gradient of the tied output
  layer; packed rows also look up the encoder's and decoder's tokens at once (one sparse gradient a
  pass, seq2seq_packing). Not under DDP, whose buckets expect one layout per parameter; an untied
  model's embedding gradient stays sparse until :func:`dense_gradients` turns it dense before clipping
  and the optimizer step.

The draws come from torch's default generator, so a seeded run repeats itself and a checkpoint's saved
random state resumes it; a thread may draw from a generator of its own instead (:func:`drawing_from`,
used by ``parallel_task_passes`` so that two passes at once do not share one stream of draws). Nothing
is saved differently: the replaced modules hold no weights, the attention choice is not written into a
saved config, and a saved folder is an ordinary T5.
"""

import contextlib
import math
import threading
import types

import torch
import torch.nn.functional as functional

# A 16-bit share of a random 64-bit word: 65,536 equally likely values.
SHARES = 65536

# The name of fused_t5_attention among transformers' attention functions and attention masks.
FUSED_ATTENTION = "distill-fused-t5"


class FusedTanhGelu(torch.nn.Module):
    """``NewGELUActivation``'s tanh-approximated GELU as one kernel."""

    def forward(self, input):
        return functional.gelu(input, approximate="tanh")


# The generator each thread's masks are drawn from, where it is not the default one (see drawing_from).
_thread_draws = threading.local()


@contextlib.contextmanager
def drawing_from(generator):
    """Inside the context, the masks this thread draws come from `generator` instead of torch's default generator."""
    previous = getattr(_thread_draws, "generator", None)
    _thread_draws.generator = generator
    try:
        yield
    finally:
        _thread_draws.generator = previous


def keep_mask(shape, dropped, device):
    """A boolean mask of `shape`, False where an element's 16-bit share falls among the `dropped` lowest of 65,536 values."""
    count = math.prod(shape)
    # The whole signed range: every bit of a word random, each 16-bit share uniform over [-32768, 32767].
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_(
        -(2**63), 2**63 - 1, generator=getattr(_thread_draws, "generator", None)
    )
    shares = words.view(torch.int16)[:count].view(shape)
    return shares >= dropped - SHARES // 2


def random_bits_dropout(input, p):
    """Training-mode dropout of `input` with probability `p`: the random-bits mask on a CPU (see the module's notes).

    p is rounded to a multiple of 2⁻¹⁶ and the kept elements scaled by the inverse of the exact keep
    probability; on another device, and for a p that rounds to 1 (nothing kept, no scale), F.dropout.
    """
    dropped = round(p * SHARES)
    if p == 0 or input.device.type != "cpu" or dropped >= SHARES:
        return functional.dropout(input, p, True)
    mask = keep_mask(input.shape, dropped, input.device)
    # The scaled mask made in the input's precision: a bool × float product would be an fp32 tensor
    # cast down again (the same values: the scale rounds to the input's precision either way).
    return input * mask.to(input.dtype).mul_(SHARES / (SHARES - dropped))


class RandomBitsDropout(torch.nn.Module):
    """``nn.Dropout(p)`` with a cheaper mask on a CPU (see the module's notes); ``F.dropout`` elsewhere and in evaluation."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, input):
        return random_bits_dropout(input, self.p) if self.training else input

    def extra_repr(self):
        return f"p={self.p}"


def fused_t5_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, position_bias=None, **kwargs):
    """transformers' ``eager_attention_forward`` with the weights' dropout of :class:`RandomBitsDropout` (see the module's notes)."""
    scores = torch.matmul(query, key.transpose(2, 3))
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    if scaling != 1.0:
        scores = scores * scaling
    if position_bias is not None:
        scores = scores + position_bias
    if attention_mask is not None:
        scores = scores + attention_mask
    weights = functional.softmax(scores, dim=-1)
    if module.training and dropout > 0:
        weights = random_bits_dropout(weights, dropout)
    output = torch.matmul(weights, value)
    return output.transpose(1, 2).contiguous(), weights


def gated_feed_forward(block, hidden_states):
    """``T5DenseGatedActDense.forward`` without the fp32 round trip before the output layer under autocast."""
    if not torch.is_autocast_enabled(hidden_states.device.type):
        return type(block).forward(block, hidden_states)
    return block.wo(block.dropout(block.act(block.wi_0(hidden_states)) * block.wi_1(hidden_states)))


def plain_feed_forward(block, hidden_states):
    """``T5DenseActDense.forward`` without the fp32 round trip before the output layer under autocast."""
    if not torch.is_autocast_enabled(hidden_states.device.type):
        return type(block).forward(block, hidden_states)
    return block.wo(block.dropout(block.act(block.wi(hidden_states))))


def use_autocast_feed_forward(model):
    """Puts the T5 feed-forward blocks of `model` whose output layer is a plain ``nn.Linear`` on the forwards above; returns how many."""
    from transformers.models.t5.modeling_t5 import T5DenseActDense, T5DenseGatedActDense

    forwards = {T5DenseGatedActDense: gated_feed_forward, T5DenseActDense: plain_feed_forward}
    count = 0
    for module in model.modules():
        forward = forwards.get(type(module))
        # A wrapped output layer (LoRA) might not undo the cast exactly: that block stays as it is.
        if forward is not None and type(module.wo) is torch.nn.Linear:
            # Bound to the instance: the class, its weights and a saved folder stay transformers' own.
            module.forward = types.MethodType(forward, module)
            count += 1
    return count


def use_sparse_embedding_gradients(model):
    """Has every lookup of `model`'s trained input embeddings give a sparse gradient (see the module's notes); returns how many modules."""
    embeddings = model.get_input_embeddings()
    if embeddings is None or not embeddings.weight.requires_grad:
        return 0
    count = 0
    # A T5's encoder and decoder each hold an nn.Embedding of their own over the one shared table.
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding) and module.weight is embeddings.weight:
            module.sparse = True
            count += 1
    return count


def dense_gradients(parameters):
    """Turns any sparse gradient among `parameters` dense, in place, for clipping and the fused AdamW (which take dense ones)."""
    for parameter in parameters:
        if parameter.grad is not None and parameter.grad.is_sparse:
            parameter.grad = parameter.grad.to_dense()


def use_fused_attention(model):
    """Puts a T5 on a CPU on :func:`fused_t5_attention`; returns how many attention modules now use it (0 elsewhere)."""
    from transformers import AttentionInterface, PreTrainedModel
    from transformers.masking_utils import AttentionMaskInterface, eager_mask
    from transformers.models.t5.modeling_t5 import T5Attention

    AttentionInterface.register(FUSED_ATTENTION, fused_t5_attention)
    AttentionMaskInterface.register(FUSED_ATTENTION, eager_mask)
    pretrained = next((module for module in model.modules() if isinstance(module, PreTrainedModel)), None)
    parameter = next(model.parameters(), None)
    if pretrained is None or pretrained.config.model_type != "t5" or parameter is None or parameter.device.type != "cpu":
        return 0
    # Only over transformers' own two (a flash or flex kernel asked for on purpose stays).
    if pretrained.config._attn_implementation not in ("sdpa", "eager"):
        return 0
    pretrained.set_attn_implementation(FUSED_ATTENTION)
    return sum(isinstance(module, T5Attention) for module in model.modules())


def draws_only_random_bits(model):
    """Whether every random draw of `model`'s training forward is a :func:`random_bits_dropout` mask (:func:`drawing_from` steers all).

    False while a plain ``nn.Dropout`` with p > 0 is left, or while a T5's attention weights are dropped
    by a kernel other than :func:`fused_t5_attention` (torch's own draws, from the default generator).
    """
    from transformers import PreTrainedModel

    if any(type(module) is torch.nn.Dropout and module.p > 0 for module in model.modules()):
        return False
    for module in model.modules():
        if isinstance(module, PreTrainedModel) and getattr(module.config, "dropout_rate", 0) > 0:
            if module.config._attn_implementation != FUSED_ATTENTION:
                return False
    return True


def use_fused_kernels(model, distributed):
    """Applies the module's kernels to a T5 `model` in place; returns how many modules each changed.

    GELU and dropout modules replaced, feed-forward blocks' forwards rebound and, on a CPU, the
    attention and (in one process) the embedding gradient.

    Only ``NewGELUActivation`` and plain ``nn.Dropout`` are replaced, wherever they sit (a LoRA wrapper
    included); the function is a no-op on a model without them. Call it once the model is on its device;
    `distributed` (DDP) keeps dense embedding gradients.
    """
    from transformers.activations import NewGELUActivation

    parameter = next(model.parameters(), None)
    on_cpu = parameter is not None and parameter.device.type == "cpu"
    replaced = {
        "gelu": 0,
        "dropout": 0,
        "attention": use_fused_attention(model),
        "feed_forward": use_autocast_feed_forward(model),
        "sparse_embeddings": use_sparse_embedding_gradients(model) if on_cpu and not distributed else 0,
    }
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, NewGELUActivation):
                kind, replacement = "gelu", FusedTanhGelu()
            elif type(child) is torch.nn.Dropout:
                kind, replacement = "dropout", RandomBitsDropout(child.p)
            else:
                continue
            # A new module starts in training mode; it takes the mode of the one it replaces.
            setattr(parent, name, replacement.train(child.training))
            replaced[kind] += 1
    return replaced
