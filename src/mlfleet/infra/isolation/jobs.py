"""Jobs for the noisy-neighbour model, from the command line or from catalog workloads.

``NAME:key=value,...`` with either ``intensity=FLOP_PER_BYTE`` (and ``memory=20GB``)
or ``workload=CATALOG_NAME[,phase=decode][,batch=8][,seq=2048]`` (intensity from the
roofline cost of one step, memory from its weights, KV cache and activations); both
take ``busy=FRACTION`` (default 1) and an optional MIG ``profile=3g.40gb``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.errors import InputError
from mlfleet.infra.isolation.noisy import Job
from mlfleet.units import parse_quantity

KEYS = ("intensity", "memory", "workload", "phase", "batch", "seq", "busy", "profile")


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """A parsed ``--job``: the job, and the MIG profile it asked for (None: smallest fit)."""

    job: Job
    profile: str | None = None


def parse_job(text: str, *, bytes_per_element: float, device_bytes: float) -> JobSpec:
    """``NAME:key=value,...`` -> JobSpec; InputError quoting the text otherwise."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip():
        raise InputError(f"--job {text!r} must look like NAME:intensity=4,busy=0.5 or "
                         "NAME:workload=Llama-3-8B,phase=decode,batch=8")
    fields = _fields(text, rest)
    if ("intensity" in fields) == ("workload" in fields):
        raise InputError(f"--job {text!r} needs exactly one of intensity= or workload=")
    busy = _number(text, fields, "busy", 1.0)
    if "intensity" in fields:
        memory = parse_quantity(fields.get("memory", "0B"), "bytes")
        job = Job(name=name.strip(), intensity_flop_per_byte=_number(text, fields, "intensity",
                                                                     0.0),
                  busy=busy, memory_bytes=memory)
    else:
        job = _workload_job(name.strip(), fields, busy=busy, text=text,
                            bytes_per_element=bytes_per_element, device_bytes=device_bytes)
    return JobSpec(job=job, profile=fields.get("profile"))


def _fields(text: str, rest: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or key not in KEYS:
            raise InputError(f"--job {text!r}: {item!r} is not key=value with a key among "
                             f"{', '.join(KEYS)}")
        fields[key] = value.strip()
    return fields


def _number(text: str, fields: dict[str, str], key: str, default: float) -> float:
    try:
        return float(fields[key]) if key in fields else default
    except ValueError:
        raise InputError(f"--job {text!r}: {key}={fields[key]!r} is not a number") from None


def _workload_job(name: str, fields: dict[str, str], *, busy: float, text: str,
                  bytes_per_element: float, device_bytes: float) -> Job:
    from mlfleet.infra import memory_fit
    from mlfleet.infra import roofline as rl

    shape = rl.TransformerShape.from_workload(fields["workload"])
    phase = fields.get("phase", "decode")
    batch = _number(text, fields, "batch", 1.0)
    seq = _number(text, fields, "seq", float(shape.seq_len or 2048))
    cost = rl.llm_cost(phase, shape, batch=batch, seq_len=seq, bytes_per_param=bytes_per_element)
    need = memory_fit.llm_memory(phase, shape, batch=batch, seq_len=seq, n_gpus=1,
                                 bytes_per_param=bytes_per_element, device_bytes=device_bytes)
    return Job(name=name, intensity_flop_per_byte=float(cost.flop) / float(cost.mem_bytes),
               busy=busy, memory_bytes=float(need.need_bytes))
