"""Compression methods by name: ``make_compressor("topk+ef", ratio=0.01)``.

A method is a codec name from :data:`CODECS`, optionally suffixed ``+ef`` for
error feedback. Unknown names raise :class:`mlfleet.errors.InputError` listing
the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlfleet.comm.compression.base import Compressor
from mlfleet.comm.compression.dense import Dense
from mlfleet.comm.compression.error_feedback import ErrorFeedback
from mlfleet.comm.compression.fp16 import FP16
from mlfleet.comm.compression.int8 import Int8
from mlfleet.comm.compression.randomk import RandomK
from mlfleet.comm.compression.stochastic import Stochastic
from mlfleet.comm.compression.topk import TopK
from mlfleet.errors import InputError

CODECS: dict[str, Callable[..., Compressor]] = {
    "dense": Dense,
    "fp16": FP16,
    "int8": Int8,
    "stochastic": Stochastic,
    "topk": TopK,
    "randomk": RandomK,
}
"""Codec name -> constructor taking the codec's keyword parameters."""

EF_SUFFIX = "+ef"

_CONTRACTIVE_UNDER_EF: dict[str, tuple[str, bool]] = {
    "randomk": ("scaled", False),
    "stochastic": ("contractive", True),
}

ALL_METHODS: tuple[str, ...] = ("dense",) + tuple(
    f"{name}{suffix}" for name in CODECS if name != "dense" for suffix in ("", EF_SUFFIX)
)
"""Every codec except dense, each without and with error feedback, after dense."""


def parse_method(method: str) -> tuple[str, bool]:
    """``"topk+ef"`` -> ``("topk", True)``; raises InputError for unknown codecs."""
    codec, ef = (method[: -len(EF_SUFFIX)], True) if method.endswith(EF_SUFFIX) else (method, False)
    if codec not in CODECS:
        known = ", ".join(sorted(CODECS))
        raise InputError(
            f"compression method(={method!r}) is unknown; known: {known} "
            f"(each may end in {EF_SUFFIX!r})"
        )
    return codec, ef


def make_compressor(method: str, **params: Any) -> Compressor:
    """Build a fresh codec (with its own error-feedback residual if ``+ef``).

    Error feedback needs a contractive codec, and the unbiased estimators are
    not: under ``+ef`` random-k defaults to ``scaled=False`` and stochastic
    quantization to ``contractive=True`` (both mean "shrink the unbiased
    estimate by 1/(1 + ω)", Karimireddy et al. 2019).
    """
    codec, ef = parse_method(method)
    if ef and codec in _CONTRACTIVE_UNDER_EF:
        key, value = _CONTRACTIVE_UNDER_EF[codec]
        params.setdefault(key, value)
    try:
        compressor = CODECS[codec](**params)
    except TypeError as exc:
        raise InputError(f"bad parameters {params!r} for {codec!r}: {exc}") from exc
    return ErrorFeedback(compressor) if ef else compressor
