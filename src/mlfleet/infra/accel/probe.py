"""The probe file: what ``benchmarks/gpu_probe.py`` (or ``mlfleet infra probe --out``) measured.

A probe is one JSON document with ``schema: mlfleet.probe/1`` (:data:`~.types.PROBE_SCHEMA`)::

    device  {name, kind (cuda|cpu), accelerator (catalog name or "host"), precision,
             peak_flops_per_s, mem_bw_bytes_per_s}
    gemm    [{m, n, k, seconds}]                 one C = A·B of (m×k)·(k×n), 2·m·n·k FLOP
    stream  [{op (copy|reduce), bytes, seconds}] bytes: the source buffer's size
    h2d     [{bytes, pinned, seconds}]           host -> device copies
    launch  {eager_s, graph_s, min_kernel_s}     per empty kernel, eager / inside a graph
    steps   [{phase (decode|prefill), batch, context | prompt_len, engine, seconds,
              shape {d_model, n_layers, n_heads, n_kv_heads, d_ff, vocab}}]

Times are the best (least disturbed) of repeated runs, in seconds. Reading validates every
field: a file of another schema or a malformed field raises :class:`ProbeError` (exit 2)
with one line naming the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mlfleet.errors import InputError
from mlfleet.infra.accel.types import ENGINE_MODES, PROBE_SCHEMA

DEVICE_KINDS = ("cuda", "cpu")
STREAM_OPS = ("copy", "reduce")
STEP_PHASES = ("decode", "prefill")


class ProbeError(InputError):
    """A probe file that is not an ``mlfleet.probe/1`` document, or has a malformed field."""


@dataclass(frozen=True, kw_only=True)
class ProbeDevice:
    """The device the probe ran on and the ceilings its fractions are relative to."""

    name: str
    kind: str
    accelerator: str
    """Catalog accelerator name (``H100``), or ``host`` for this machine's CPU."""
    precision: str
    peak_flops_per_s: float
    mem_bw_bytes_per_s: float


@dataclass(frozen=True, kw_only=True)
class GemmPoint:
    m: int
    n: int
    k: int
    seconds: float


@dataclass(frozen=True, kw_only=True)
class StreamPoint:
    op: str
    bytes: int
    """Size of the source buffer (a copy moves twice this, a reduce reads it once)."""
    seconds: float


@dataclass(frozen=True, kw_only=True)
class H2dPoint:
    bytes: int
    pinned: bool
    seconds: float


@dataclass(frozen=True, kw_only=True)
class LaunchTimes:
    eager_s: float
    """Time per empty kernel issued back to back from eager Python (host-bound)."""
    graph_s: float
    """Time per empty kernel replayed inside a CUDA graph (kernel + gap)."""
    min_kernel_s: float
    """Device duration of one empty kernel."""


@dataclass(frozen=True, kw_only=True)
class StepShape:
    """A Llama-shaped decoder: what a step's kernels need."""

    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    vocab: int


@dataclass(frozen=True, kw_only=True)
class StepPoint:
    phase: str
    batch: int
    tokens: int
    """Cached tokens per sequence (decode, ``context``) or prompt length (prefill)."""
    engine: str
    seconds: float
    shape: StepShape


@dataclass(frozen=True, kw_only=True)
class Probe:
    device: ProbeDevice
    gemm: tuple[GemmPoint, ...] = ()
    stream: tuple[StreamPoint, ...] = ()
    h2d: tuple[H2dPoint, ...] = ()
    launch: LaunchTimes | None = None
    steps: tuple[StepPoint, ...] = ()
    source: str = ""
    """Where the probe was read from (not part of the file)."""


def stream_traffic_bytes(op: str, buffer_bytes: float) -> float:
    """Bytes a stream op moves through memory: a copy reads and writes, a reduce reads."""
    return 2.0 * buffer_bytes if op == "copy" else float(buffer_bytes)


# --------------------------------------------------------------------------- reading


def _field(doc: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in doc:
        raise ProbeError(f"probe field {where}{key} is missing")
    return doc[key]


def _number(doc: Mapping[str, Any], key: str, where: str, *, positive: bool = True) -> float:
    value = _field(doc, key, where)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        raise ProbeError(f"probe field {where}{key}(={value!r}) must be a finite number "
                         f"{'> 0' if positive else '>= 0'}")
    return float(value)


def _count(doc: Mapping[str, Any], key: str, where: str) -> int:
    value = _field(doc, key, where)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProbeError(f"probe field {where}{key}(={value!r}) must be an integer >= 1")
    return value


def _choice(doc: Mapping[str, Any], key: str, where: str, allowed: Sequence[str]) -> str:
    value = _field(doc, key, where)
    if value not in allowed:
        raise ProbeError(f"probe field {where}{key}(={value!r}) must be one of "
                         f"{', '.join(allowed)}")
    return str(value)


def _text(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = _field(doc, key, where)
    if not isinstance(value, str) or not value:
        raise ProbeError(f"probe field {where}{key}(={value!r}) must be a non-empty string")
    return value


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProbeError(f"probe field {where} must be an object, got {type(value).__name__}")
    return value


def _rows(doc: Mapping[str, Any], key: str) -> list[tuple[Mapping[str, Any], str]]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ProbeError(f"probe field {key} must be a list, got {type(value).__name__}")
    return [(_object(row, f"{key}[{i}]"), f"{key}[{i}].") for i, row in enumerate(value)]


def _device(doc: Mapping[str, Any]) -> ProbeDevice:
    d = _object(_field(doc, "device", ""), "device")
    return ProbeDevice(name=_text(d, "name", "device."),
                       kind=_choice(d, "kind", "device.", DEVICE_KINDS),
                       accelerator=_text(d, "accelerator", "device."),
                       precision=_text(d, "precision", "device."),
                       peak_flops_per_s=_number(d, "peak_flops_per_s", "device."),
                       mem_bw_bytes_per_s=_number(d, "mem_bw_bytes_per_s", "device."))


def _launch(doc: Mapping[str, Any]) -> LaunchTimes | None:
    if doc.get("launch") is None:
        return None
    d = _object(doc["launch"], "launch")
    return LaunchTimes(**{k: _number(d, k, "launch.", positive=False)
                          for k in ("eager_s", "graph_s", "min_kernel_s")})


def _step(row: Mapping[str, Any], where: str) -> StepPoint:
    phase = _choice(row, "phase", where, STEP_PHASES)
    batch = _count(row, "batch", where)
    tokens = _count(row, "context" if phase == "decode" else "prompt_len", where)
    engine = _choice(row, "engine", where, ENGINE_MODES)
    seconds = _number(row, "seconds", where)
    s = _object(_field(row, "shape", where), f"{where}shape")
    shape = StepShape(**{k: _count(s, k, f"{where}shape.") for k in
                         ("d_model", "n_layers", "n_heads", "n_kv_heads", "d_ff", "vocab")})
    return StepPoint(phase=phase, batch=batch, tokens=tokens, engine=engine, seconds=seconds,
                     shape=shape)


def parse_probe(doc: Any, *, source: str = "") -> Probe:
    """A validated :class:`Probe` from a decoded JSON document; ProbeError otherwise."""
    doc = _object(doc, "(top level)")
    if doc.get("schema") != PROBE_SCHEMA:
        raise ProbeError(f"probe schema(={doc.get('schema')!r}) must be {PROBE_SCHEMA!r}")
    return Probe(
        device=_device(doc),
        gemm=tuple(GemmPoint(m=_count(r, "m", w), n=_count(r, "n", w), k=_count(r, "k", w),
                             seconds=_number(r, "seconds", w)) for r, w in _rows(doc, "gemm")),
        stream=tuple(StreamPoint(op=_choice(r, "op", w, STREAM_OPS), bytes=_count(r, "bytes", w),
                                 seconds=_number(r, "seconds", w))
                     for r, w in _rows(doc, "stream")),
        h2d=tuple(H2dPoint(bytes=_count(r, "bytes", w), pinned=_flag(r, "pinned", w),
                           seconds=_number(r, "seconds", w)) for r, w in _rows(doc, "h2d")),
        launch=_launch(doc), steps=tuple(_step(r, w) for r, w in _rows(doc, "steps")),
        source=source)


def _flag(doc: Mapping[str, Any], key: str, where: str) -> bool:
    value = _field(doc, key, where)
    if not isinstance(value, bool):
        raise ProbeError(f"probe field {where}{key}(={value!r}) must be true or false")
    return value


def read_probe(path: str | Path) -> Probe:
    """Read and validate a probe file; ProbeError (one line) for any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"cannot read probe {str(p)!r}: {getattr(exc, 'strerror', None) or exc}"
                         ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProbeError(f"probe {str(p)!r} is not JSON: {exc.msg} at line {exc.lineno}"
                         ) from None
    return parse_probe(doc, source=str(p))


# --------------------------------------------------------------------------- writing


def _step_dict(step: StepPoint) -> dict[str, Any]:
    length_key = "context" if step.phase == "decode" else "prompt_len"
    return {"phase": step.phase, "batch": step.batch, length_key: step.tokens,
            "engine": step.engine, "seconds": step.seconds, "shape": asdict(step.shape)}


def probe_dict(probe: Probe) -> dict[str, Any]:
    """The JSON document of ``probe`` (what :func:`parse_probe` reads back)."""
    return {"schema": PROBE_SCHEMA, "device": asdict(probe.device),
            "gemm": [asdict(g) for g in probe.gemm], "stream": [asdict(s) for s in probe.stream],
            "h2d": [asdict(h) for h in probe.h2d],
            "launch": None if probe.launch is None else asdict(probe.launch),
            "steps": [_step_dict(s) for s in probe.steps]}
