"""The one bound an exported graph's logits must meet against PyTorch's (T5 and causal-LM exports)."""

import numpy


def checked_difference(worst, expected):
    """Returns `worst`, the largest absolute logit difference, or raises when it exceeds the bound.

    The bound is relative to the logits' size: float32 rounding grows with the magnitude of what is
    summed, so an absolute bound is either too loose for small logits or fails large ones that are
    right; a wrong graph (a bias, a mask, a cache) is off by a share of the logits themselves.
    """
    scale = max(1.0, float(numpy.abs(expected).max()))
    if not worst <= 1e-4 * scale:
        raise RuntimeError(
            f"exported decoder differs from PyTorch by {worst:g} in the logits (more than 1e-4 of their largest magnitude, {scale:g})"
        )
    return worst
