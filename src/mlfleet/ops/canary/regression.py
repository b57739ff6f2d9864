"""``--regression``: what is wrong with the canary (``none``, ``latency=1.3``, ...)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.ops.canary.errors import CanaryInputError

KINDS = {
    "none": "a good canary",
    "latency": "service time x FACTOR (> 1)",
    "errors": "each request fails with probability P (0 < P < 1)",
    "variance": "service time x (1 -/+ A) in alternating intervals (0 < A < 1): same mean",
}


@dataclass(frozen=True, kw_only=True)
class Regression:
    """A regression kind and its amount (1.0 / 0.0 for ``none``)."""

    kind: str
    amount: float = 0.0


def _check(kind: str, amount: float, text: str) -> None:
    ok = {"latency": amount > 1, "errors": 0 < amount < 1, "variance": 0 < amount < 1}
    if not math.isfinite(amount) or not ok[kind]:
        raise CanaryInputError(f"--regression(={text!r}) is out of range; {kind}: {KINDS[kind]}")


def parse_regression(text: str) -> Regression:
    """``none`` or ``KIND=AMOUNT``.

    Raises:
        CanaryInputError: an unknown kind or an amount outside its range.
    """
    kind, _, value = text.strip().partition("=")
    if kind not in KINDS or (kind == "none") != (value == ""):
        forms = "none, latency=1.3, errors=0.02, variance=0.5"
        raise CanaryInputError(f"--regression(={text!r}) is unknown; use one of: {forms}")
    if kind == "none":
        return Regression(kind="none")
    try:
        amount = float(value)
    except ValueError:
        raise CanaryInputError(f"--regression(={text!r}): {value!r} is not a number") from None
    _check(kind, amount, text)
    return Regression(kind=kind, amount=amount)
