"""Gradient compression (spec ch. 5, "Gradient Compression"), real, on numpy tensors.

Codecs, one module each: :mod:`dense` (baseline), :mod:`fp16`, :mod:`int8`,
:mod:`stochastic` (QSGD), :mod:`topk`, :mod:`randomk`; :mod:`error_feedback`
wraps any of them with a residual memory. :mod:`registry` builds them by name
(``"topk+ef"``). :mod:`exchange` aggregates payloads over a Transport;
:mod:`dp_train` / :mod:`study` run real 4-rank data-parallel training and
report loss vs bytes; :mod:`decision` says when compression pays.
"""

from mlfleet.comm.compression.base import Compressor, Payload, compression_ratio, pack, unpack
from mlfleet.comm.compression.decision import Decision, compression_pays
from mlfleet.comm.compression.error_feedback import ErrorFeedback
from mlfleet.comm.compression.registry import ALL_METHODS, CODECS, make_compressor
from mlfleet.comm.compression.study import run_compression_study

__all__ = [
    "ALL_METHODS",
    "CODECS",
    "Compressor",
    "Decision",
    "ErrorFeedback",
    "Payload",
    "compression_pays",
    "compression_ratio",
    "make_compressor",
    "pack",
    "run_compression_study",
    "unpack",
]
