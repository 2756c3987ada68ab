"""The evaluators' metrics, implemented exactly as the TypeScript plugins do, so scores agree.

See plugins/evaluators/exact-match and plugins/evaluators/numeric-equality.
"""

import math
import re

_EQUATION_TOKENS = re.compile(r"\d+(?:\.\d+)?|[-+*/()]|\S")


def normalise_label(text, ignore_case=True):
    """Trims, collapses whitespace, drops one trailing full stop; lower-cases unless told not to."""
    collapsed = re.sub(r"\.$", "", re.sub(r"\s+", " ", text.strip()))
    return collapsed.lower() if ignore_case else collapsed


def exact_match(prediction, gold, ignore_case=True):
    """1 when the normalised labels are equal, else 0."""
    return 1 if normalise_label(prediction, ignore_case) == normalise_label(gold, ignore_case) else 0


def evaluate_equation(text):
    """Value of an expression of numbers, + - * / and parentheses; None for anything else."""
    tokens = _EQUATION_TOKENS.findall(text)
    if not tokens:
        return None
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        token = peek()
        position += 1
        return token

    def expression():
        value = term()
        while value is not None and peek() in ("+", "-"):
            operator = take()
            right = term()
            if right is None:
                return None
            value = value + right if operator == "+" else value - right
        return value

    def term():
        value = factor()
        while value is not None and peek() in ("*", "/"):
            operator = take()
            right = factor()
            if right is None:
                return None
            if operator == "*":
                value = value * right
            elif right == 0:
                # JavaScript gives ±Infinity or NaN here, which the TS evaluator then rejects.
                return None
            else:
                value = value / right
        return value

    def factor():
        token = take()
        if token is None:
            return None
        if token == "-":
            inner = factor()
            return None if inner is None else -inner
        if token == "(":
            inner = expression()
            if take() != ")":
                return None
            return inner
        try:
            number = float(token)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    value = expression()
    return value if position == len(tokens) and value is not None and math.isfinite(value) else None


def numeric_equality(prediction, gold, tolerance=1e-4):
    """1 when both equations have values within `tolerance` of each other, else 0."""
    predicted = evaluate_equation(prediction)
    expected = evaluate_equation(gold)
    return 1 if predicted is not None and expected is not None and abs(predicted - expected) <= tolerance else 0


def scorer(metric):
    """The scoring function of a metric name, with the evaluator's default options.

    The train request names the metric only; the worker's validation picks the model, and the
    pipeline's evaluators score the exported student with their own options afterwards.
    """
    if metric == "numeric-equality":
        return numeric_equality
    return exact_match
