"""Published performance data points: what the kernel defaults come from and what the
leave-one-out validation predicts.

``data/published.yaml`` records each figure as its source publishes it (TFLOP/s of a GEMM,
TB/s of a stream, GB/s of a host-to-device copy, tokens/s of a decode loop) with the source's
citation; :func:`load_points` converts each to seconds per operation or step:

    gemm:                measured_s = 2*m*n*k / (TFLOP/s * 1e12)
    stream, h2d:         measured_s = bytes / (bandwidth in bytes/s)
    launch, latencies:   measured_s = the published latency in us * 1e-6 or ms * 1e-3
    decode_step:         measured_s = batch / (tokens/s)       (one token per sequence per step)
                         measured_s = batch / (tokens/s/GPU * tp)   (a per-GPU throughput)
    prefill_step:        measured_s = batch * prompt_len / (tokens/s), or a first-token latency
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from mlfleet.errors import InputError
from mlfleet.infra.accel.types import ENGINE_MODES
from mlfleet.package_data import package_yaml

POINT_KINDS = ("gemm", "stream", "h2d", "launch", "decode_step", "prefill_step")
"""What a point measures: a GEMM, an HBM stream, a host-to-device copy, a kernel launch, or a
whole decode/prefill step of a serving engine."""

SHAPE_KEYS: Mapping[str, frozenset[str]] = {
    "gemm": frozenset({"m", "n", "k"}),
    "stream": frozenset({"bytes", "op"}),
    "h2d": frozenset({"bytes", "pinned", "link"}),
    "launch": frozenset({"n_kernels"}),
    "decode_step": frozenset({"workload", "batch", "context", "tp"}),
    "prefill_step": frozenset({"workload", "batch", "prompt_len", "tp"}),
}
"""The shape keys each kind of point must give."""

_PER_UNIT = {"tflop_per_s": 1e12, "tb_per_s": 1e12, "gb_per_s": 1e9, "tok_per_s": 1.0,
             "tok_per_s_per_gpu": 1.0, "us": 1e-6, "ms": 1e-3}
_LATENCY_UNITS = ("us", "ms")
"""Units of a latency published directly (seconds per unit); the others are rates."""


class PublishedDataError(InputError):
    """A malformed published.yaml (unknown kind, missing shape key, unresolved source)."""


@dataclass(frozen=True, kw_only=True)
class PublishedPoint:
    """One published measurement, converted to seconds per operation or step."""

    id: str
    accelerator: str
    """Catalog accelerator name."""
    precision: str
    kind: str
    """One of :data:`POINT_KINDS`."""
    engine: str
    """One of the engine modes for steps; "" for kernels, streams and copies."""
    shape: Mapping[str, float | str]
    measured_s: float
    """Seconds per operation (GEMM, stream, copy) or per step (decode/prefill)."""
    source: str
    """A key of :func:`sources`."""
    note: str


@cache
def _document() -> Mapping[str, Any]:
    doc: Mapping[str, Any] = package_yaml("mlfleet.infra.accel", "data", "published.yaml")
    return doc


def sources() -> Mapping[str, str]:
    """Citation of every source key that published.yaml uses."""
    table: Mapping[str, str] = _document()["sources"]
    return table


def load_points() -> list[PublishedPoint]:
    """Every published point, in file order; PublishedDataError naming a malformed one."""
    points = [_point(raw) for raw in _document()["points"]]
    seen: set[str] = set()
    for p in points:
        if p.id in seen:
            raise PublishedDataError(f"published point id {p.id!r} appears twice")
        seen.add(p.id)
    return points


def _point(raw: Mapping[str, Any]) -> PublishedPoint:
    ident = str(raw.get("id", "?"))
    kind, engine, shape = raw["kind"], str(raw.get("engine", "")), dict(raw["shape"])
    if kind not in POINT_KINDS:
        raise PublishedDataError(f"point {ident}: kind {kind!r} is not one of "
                                 f"{', '.join(POINT_KINDS)}")
    if set(shape) != SHAPE_KEYS[kind]:
        raise PublishedDataError(f"point {ident}: shape keys {sorted(shape)} must be "
                                 f"{sorted(SHAPE_KEYS[kind])} for kind {kind}")
    step = kind.endswith("_step")
    if (engine in ENGINE_MODES) != step or (not step and engine):
        raise PublishedDataError(f"point {ident}: engine {engine!r} must be one of "
                                 f"{', '.join(ENGINE_MODES)} for steps and empty otherwise")
    if raw["source"] not in sources():
        raise PublishedDataError(f"point {ident}: source {raw['source']!r} is not in sources")
    return PublishedPoint(id=ident, accelerator=str(raw["accelerator"]),
                          precision=str(raw["precision"]), kind=kind, engine=engine, shape=shape,
                          measured_s=_seconds(ident, kind, shape, raw), source=str(raw["source"]),
                          note=str(raw.get("note", "")))


def _seconds(ident: str, kind: str, shape: Mapping[str, Any], raw: Mapping[str, Any]) -> float:
    """The published figure as seconds per operation or step (see the module docstring)."""
    per = raw["per"]
    if per not in _PER_UNIT or not float(raw["published"]) > 0:
        raise PublishedDataError(f"point {ident}: published {raw['published']!r} per {per!r} "
                                 f"must be > 0 per one of {', '.join(_PER_UNIT)}")
    if per in _LATENCY_UNITS:  # a latency published directly (launch, first-token latency)
        return float(raw["published"]) * _PER_UNIT[per]
    rate = float(raw["published"]) * _PER_UNIT[per]
    if per == "tok_per_s_per_gpu":  # a throughput per GPU of a tensor-parallel group
        rate *= float(shape["tp"])
    amount = _amount(kind, shape)
    return float(amount / rate)


def _amount(kind: str, shape: Mapping[str, Any]) -> float:
    """FLOP (gemm), bytes (stream, h2d) or tokens (steps) of one operation or step."""
    if kind == "gemm":
        return 2.0 * float(shape["m"]) * float(shape["n"]) * float(shape["k"])
    if kind in ("stream", "h2d"):
        return float(shape["bytes"])
    if kind == "decode_step":
        return float(shape["batch"])
    assert kind == "prefill_step", kind
    return float(shape["batch"]) * float(shape["prompt_len"])


def points_of(*, kind: str, accelerator: str | None = None) -> list[PublishedPoint]:
    """The points of one ``kind`` (optionally of one catalog accelerator)."""
    if kind not in POINT_KINDS:
        raise PublishedDataError(f"kind {kind!r} is not one of {', '.join(POINT_KINDS)}")
    return [p for p in load_points()
            if p.kind == kind and (accelerator is None or p.accelerator == accelerator)]
