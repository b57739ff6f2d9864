"""The probe file's schema (mlfleet.probe/1): what is read back is what was written, and a
malformed file raises one line naming the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfleet.infra.accel.probe import (
    GemmPoint,
    LaunchTimes,
    Probe,
    ProbeDevice,
    ProbeError,
    StepPoint,
    StepShape,
    StreamPoint,
    parse_probe,
    probe_dict,
    read_probe,
)
from mlfleet.infra.accel.types import PROBE_SCHEMA

SHAPE = StepShape(d_model=64, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=172, vocab=256)


def build_probe(**overrides: Any) -> Probe:
    fields: dict[str, Any] = {
        "device": ProbeDevice(name="NVIDIA H100 80GB HBM3", kind="cuda", accelerator="H100",
                              precision="bf16", peak_flops_per_s=989e12,
                              mem_bw_bytes_per_s=3.35e12),
        "gemm": (GemmPoint(m=8192, n=8192, k=8192, seconds=1.6e-3),
                 GemmPoint(m=1, n=4096, k=4096, seconds=1.5e-5)),
        "stream": (StreamPoint(op="copy", bytes=2**30, seconds=7e-4),
                   StreamPoint(op="reduce", bytes=2**30, seconds=3.6e-4)),
        "launch": LaunchTimes(eager_s=6e-6, graph_s=2.5e-6, min_kernel_s=1.5e-6),
        "steps": (StepPoint(phase="decode", batch=8, tokens=512, engine="graph", seconds=4e-3,
                            shape=SHAPE),
                  StepPoint(phase="prefill", batch=1, tokens=2048, engine="eager",
                            seconds=2e-2, shape=SHAPE)),
    }
    return Probe(**(fields | overrides))


def good_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(probe_dict(build_probe())))
    return doc


def test_round_trip_through_json() -> None:
    probe = build_probe()
    assert parse_probe(good_doc()) == probe
    assert good_doc()["steps"][0]["context"] == 512
    assert good_doc()["steps"][1]["prompt_len"] == 2048


def test_read_probe_from_file(tmp_path: Path) -> None:
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(good_doc()))
    assert read_probe(path) == build_probe(source=str(path))


def test_optional_sections_may_be_absent() -> None:
    doc = {"schema": PROBE_SCHEMA, "device": good_doc()["device"]}
    probe = parse_probe(doc)
    assert probe.gemm == () and probe.launch is None and probe.steps == ()


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(("path", "value", "named"), [
    ("schema", "mlfleet.probe/2", "schema"),
    ("schema", KeyError, "schema"),
    ("device.kind", "tpu", "device.kind"),
    ("device.peak_flops_per_s", KeyError, "device.peak_flops_per_s"),
    ("device.mem_bw_bytes_per_s", -1.0, "device.mem_bw_bytes_per_s"),
    ("gemm.0.m", 0, "gemm[0].m"),
    ("gemm.1.seconds", "fast", "gemm[1].seconds"),
    ("stream.0.op", "scan", "stream[0].op"),
    ("launch.eager_s", None, "launch.eager_s"),
    ("steps.0.engine", "turbo", "steps[0].engine"),
    ("steps.0.context", KeyError, "steps[0].context"),
    ("steps.1.shape.n_heads", 2.5, "steps[1].shape.n_heads"),
    ("steps.1.phase", "train", "steps[1].phase"),
    ("gemm", {"m": 1}, "gemm"),
])
def test_malformed_field_is_named(path: str, value: Any, named: str) -> None:
    with pytest.raises(ProbeError) as info:
        parse_probe(_set(good_doc(), path, value))
    message = str(info.value)
    assert named in message and "\n" not in message


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="cannot read probe"):
        read_probe(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ProbeError, match="is not JSON"):
        read_probe(bad)
    other = tmp_path / "calib.json"
    other.write_text(json.dumps({"schema": "mlfleet.calibration/1"}))
    with pytest.raises(ProbeError, match="mlfleet.probe/1"):
        read_probe(other)


positive = st.floats(1e-9, 1e3, allow_nan=False)
counts = st.integers(1, 65536)


@settings(max_examples=40, deadline=None)
@given(gemms=st.lists(st.builds(GemmPoint, m=counts, n=counts, k=counts, seconds=positive),
                      max_size=5),
       streams=st.lists(st.builds(StreamPoint, op=st.sampled_from(["copy", "reduce"]),
                                  bytes=counts, seconds=positive), max_size=5),
       steps=st.lists(st.builds(StepPoint, phase=st.sampled_from(["decode", "prefill"]),
                                batch=counts, tokens=counts,
                                engine=st.sampled_from(["graph", "eager", "framework"]),
                                seconds=positive, shape=st.just(SHAPE)), max_size=4))
def test_any_valid_probe_round_trips(gemms: list[GemmPoint], streams: list[StreamPoint],
                                     steps: list[StepPoint]) -> None:
    probe = build_probe(gemm=tuple(gemms), stream=tuple(streams), steps=tuple(steps))
    assert parse_probe(json.loads(json.dumps(probe_dict(probe)))) == probe
