"""Acceptance: ring AllReduce across 4 emulated hosts matches tc's counters and the cost model.

Four network namespaces on one bridge, every link shaped by tc tbf in both
directions; mlfleet's ring AllReduce over the socket transport, one rank per
namespace, started by the launcher. For each case (1 Gbit/s and 100 Mbit/s;
1, 4 and 16 MiB):

(ii) bytes, exact: in every measured window, on every host's uplink and downlink,
     ``tc bytes − packets × 66`` equals the payload the algorithm's
     ``predicted_bytes_sent`` puts on that link; no drops, no retransmissions.
(i)  time, within a factor: the median per-call time is within a factor of the
     pipelined ring model (:mod:`mlfleet.comm.lab.ring_timing`: B = shaped rate ×
     MSS/(MTU + 14), α measured by tiny AllReduces on the same lab, γ by timing the
     reduction here): 1.25 where the link sets the pace (model ≥ 40 ms), 2 for the
     13 ms call of 1 MiB at 1 Gbit/s, whose ring steps each wait for a CPU.

The links are shaped in software by the two CPUs that also run the four ranks,
so the time depends on what else the machine runs. The 10% goal is therefore a
benchmark, ``benchmarks/bench_lab_timing.py``, which prints the model error per
case with the other work measured over it (figures in docs/validation.md).
This test asserts what holds on a shared host too: bytes exactly, and time within
those factors, which still catch a model that is wrong by 2× on the link-bound
cases (a missed factor 2(n−1)/n, a step count off by n) and by more than 2× on
the short one (B in bits instead of bytes: 8×). It prints
the error and the CPU share other work used (measured from /proc/stat minus this
process tree's own CPU time: :mod:`mlfleet.comm.lab.cpu`) for every case; it
never skips or xfails its criterion.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfleet.comm.lab import Lab
from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.measure import Measurement
from mlfleet.comm.lab.ring_timing import describe, ring_alpha_s, time_ring

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.serial,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None
                       or shutil.which("tc") is None,
                       reason="the network lab needs root and iproute2 (ip, tc)"),
]

N_HOSTS = 4
GBIT_1, MBIT_100 = 125e6, 12.5e6  # bytes/s
MIB = 2**20
CASES = [(rate, size * MIB) for rate in (GBIT_1, MBIT_100) for size in (1, 4, 16)]
REPS = 5
#: Measured / model must lie within a factor of LINK_BOUND_FACTOR for calls whose model
#: time is at least SHORT_CALL_S (the link sets the pace: observed within +4.4% with
#: other work at up to 91% of the CPUs), and within SHORT_CALL_FACTOR for the one shorter
#: case, 1 MiB at 1 Gbit/s (13 ms of ring steps that each wait for a CPU: observed up
#: to +41.5% with other work at 60%).
LINK_BOUND_FACTOR = 1.25
SHORT_CALL_FACTOR = 2.0
SHORT_CALL_S = 0.04


@pytest.fixture(scope="module", autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("labs")
    previous = os.environ.get(state_mod.STATE_DIR_ENV)
    os.environ[state_mod.STATE_DIR_ENV] = str(directory)
    yield directory
    for leftover in state_mod.list_states():
        lab_mod.destroy(leftover)
    if previous is None:
        os.environ.pop(state_mod.STATE_DIR_ENV)
    else:
        os.environ[state_mod.STATE_DIR_ENV] = previous


@pytest.fixture(scope="module")
def labs(state_dir: Path) -> Iterator[dict[float, Lab]]:
    with Lab(hosts=N_HOSTS, rate_bytes_per_s=GBIT_1) as g1, \
            Lab(hosts=N_HOSTS, rate_bytes_per_s=MBIT_100) as m100:
        yield {GBIT_1: g1, MBIT_100: m100}


@pytest.fixture(scope="module")
def alpha_s(labs: dict[float, Lab]) -> dict[float, float]:
    """Per lab, α = a tiny ring AllReduce's time / 2(n−1) steps."""
    return {rate: ring_alpha_s(lab.state, reps=REPS) for rate, lab in labs.items()}


def assert_bytes_exact(m: Measurement) -> None:
    for window in m.windows:
        for link in window.links:
            assert link.payload_bytes == link.predicted_payload_bytes, (
                f"window {window.rep}, host {link.host} {link.direction}link: tc saw "
                f"{link.tc_bytes} bytes in {link.packets} packets = {link.payload_bytes} "
                f"payload bytes, predicted {link.predicted_payload_bytes}")
            assert link.drops == 0
        assert window.tcp_retrans_segs == 0


@pytest.mark.parametrize(("rate", "size_bytes"), CASES,
                         ids=[f"{r * 8 / 1e6:g}Mbit-{s // MIB}MiB" for r, s in CASES])
def test_ring_allreduce_on_shaped_links(labs: dict[float, Lab], alpha_s: dict[float, float],
                                        rate: float, size_bytes: int) -> None:
    timing = time_ring(labs[rate].state, size_bytes=size_bytes, alpha_s=alpha_s[rate],
                       reps=REPS)
    print("\n" + describe(timing))
    assert_bytes_exact(timing.measurement)
    factor = LINK_BOUND_FACTOR if timing.model_s >= SHORT_CALL_S else SHORT_CALL_FACTOR
    ratio = timing.measurement.median_s / timing.model_s
    assert 1 / factor <= ratio <= factor, describe(timing)
