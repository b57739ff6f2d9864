"""Trace-job speed: the packed duration, and the mlfleet.comm locality slowdown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.catalog.types import Interconnect
from mlfleet.comm.select import best_allreduce_time
from mlfleet.comm.topology import Topology
from mlfleet.infra.scheduling.speed.trace import LocalityModel, TraceSpeed


def test_packed_job_runs_its_duration() -> None:
    job = TraceSpeed(duration_s=100.0, gpus=8, locality=LocalityModel())
    job.place((4, 4))
    assert job.time_to_finish_s() == pytest.approx(100.0)
    assert job.advance(40.0) is None
    assert job.advance(100.0) == pytest.approx(60.0)


def test_spread_slowdown_is_the_allreduce_time_difference() -> None:
    model = LocalityModel(gradient_bytes=1e8, compute_s=0.1)
    up, out = Interconnect.from_name(model.scaleup), Interconnect.from_name(model.scaleout)
    spread = Topology(name="t", ranks=4, gpus_per_node=1, intra_alpha_s=up.latency_s,
                      intra_bw_bytes_per_s=up.bw_bytes_per_s, inter_alpha_s=out.latency_s,
                      node_bw_bytes_per_s=out.bw_bytes_per_s)
    packed = Topology(name="t", ranks=4, gpus_per_node=4, intra_alpha_s=up.latency_s,
                      intra_bw_bytes_per_s=up.bw_bytes_per_s)
    expect = (0.1 + float(best_allreduce_time(packed, 1e8)[()])) / (
        0.1 + float(best_allreduce_time(spread, 1e8)[()]))
    assert model.speedup((1, 1, 1, 1), 4) == pytest.approx(expect)
    assert model.speedup((1, 1, 1, 1), 4) < 1.0


@given(gpus=st.integers(2, 32), nodes=st.integers(1, 32))
def test_spreading_never_helps(gpus: int, nodes: int) -> None:
    model = LocalityModel()
    nodes = min(max(nodes, -(-gpus // model.gpus_per_node)), gpus)
    base, extra = divmod(gpus, nodes)
    counts = tuple(base + (i < extra) for i in range(nodes))
    assert model.speedup(counts, gpus) <= 1.0 + 1e-12


def test_a_gpu_slice_runs_at_its_share() -> None:
    job = TraceSpeed(duration_s=100.0, gpus=1, locality=LocalityModel(), share=0.25)
    job.place((1,))
    assert job.time_to_finish_s() == pytest.approx(400.0) == job.isolated_s()
