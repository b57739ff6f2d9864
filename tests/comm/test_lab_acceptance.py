"""Acceptance: ring AllReduce across 4 emulated hosts matches the cost model and tc's counters.

Four network namespaces on one bridge, every link shaped by tc tbf in both
directions; mlfleet's ring AllReduce over the socket transport, one rank per
namespace, started by the launcher. For each case:

(ii) in every measured window, on every host's uplink and downlink,
     ``tc bytes − packets × 66`` equals the payload the algorithm's
     ``predicted_bytes_sent`` puts on that link — exactly; no drops, no
     retransmissions;
(i)  the median per-call time is within 10% of the pipelined ring model
     (:func:`~mlfleet.comm.cost.allreduce.pipelined_ring_allreduce_time`, with the
     blocks per chunk the ring uses at that size), B = shaped rate × MSS/(MTU + 14),
     α measured by tiny AllReduces on the same lab (per step) and γ by timing the
     reduction (numpy ``+=`` of one chunk) here. Each window runs calls back to
     back for ~0.25 s, as nccl-tests does, so the start skew of the ranks (ms on a
     busy host) is not counted per call.

(i) is asserted at both rates. Observed on this 2-core host (docs/communication-lab.md):
1 Gbit/s −0.9% … +0.7%, 100 Mbit/s −1.9% … −0.7% (1 MiB is below the model by the
tbf bucket that starts each window full). Two fixes made that hold: the ring no
longer copies its input before the first byte leaves, and the lab pins TCP to Reno
(the machine's default BBR stalled a link for ~50 ms now and then). Only when the
host is visibly busy (> 75% of both CPUs used by other work around the measurement)
is a time outside 10% reported as an expected failure with its numbers: the links
are shaped in software by the CPUs that also run the ranks. (ii) is asserted always.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mlfleet.comm.algorithms.benchmark import add_s_per_byte
from mlfleet.comm.lab import Lab, payload_rate_bytes_per_s
from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.measure import Measurement, measure

pytestmark = [
    pytest.mark.root,
    pytest.mark.slow,
    pytest.mark.serial,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None
                       or shutil.which("tc") is None,
                       reason="the network lab needs root and iproute2 (ip, tc)"),
]

N_HOSTS = 4
MTU_BYTES = 9000
GBIT_1, MBIT_100 = 125e6, 12.5e6  # bytes/s
MIB = 2**20
CASES = [(rate, size * MIB) for rate in (GBIT_1, MBIT_100) for size in (1, 4, 16)]
REPS = 5
#: Each window runs calls back to back for about this long (nccl-tests style): the
#: ranks leave the start signal up to a few ms apart on a busy host, which one
#: call of ~13 ms would count in full.
WINDOW_S = 0.25
#: Tiny AllReduces per window when measuring α.
ALPHA_ITERS = 50
TIME_TOLERANCE = 0.10
#: Other CPU use above which the host is too busy to time a software-shaped link.
BUSY_HOST = 0.75


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
    steps = 2 * (N_HOSTS - 1)
    return {rate: measure(lab.state, size_bytes=4 * N_HOSTS, reps=REPS,
                          iters=ALPHA_ITERS).median_s / steps
            for rate, lab in labs.items()}


def iters_for(rate: float, size_bytes: int) -> int:
    """Back-to-back calls per window: about WINDOW_S of link time."""
    link_s = 2 * (N_HOSTS - 1) / N_HOSTS * size_bytes / rate
    return max(1, math.ceil(WINDOW_S / link_s))


def gamma_s_per_byte(size_bytes: int) -> float:
    """γ: seconds per byte of the ring's reduction, ``chunk += incoming`` on float32 chunks."""
    return add_s_per_byte(np.float32, size_bytes // 4 // N_HOSTS, reps=15)


def model_s(rate: float, size_bytes: int, alpha: float, gamma: float) -> float:
    """The pipelined ring model with the blocks the ring will use at this size."""
    from mlfleet.comm.algorithms.ring import pipeline_blocks
    from mlfleet.comm.cost.allreduce import pipelined_ring_allreduce_time

    bw = payload_rate_bytes_per_s(rate, MTU_BYTES)
    blocks = pipeline_blocks(size_bytes // N_HOSTS)
    return float(pipelined_ring_allreduce_time(N_HOSTS, size_bytes, alpha_s=alpha,
                                               bw_bytes_per_s=bw, blocks=blocks,
                                               gamma_s_per_byte=gamma))


def assert_bytes_exact(m: Measurement) -> None:
    for window in m.windows:
        for link in window.links:
            assert link.payload_bytes == link.predicted_payload_bytes, (
                f"window {window.rep}, host {link.host} {link.direction}link: tc saw "
                f"{link.tc_bytes} bytes in {link.packets} packets = {link.payload_bytes} "
                f"payload bytes, predicted {link.predicted_payload_bytes}")
            assert link.drops == 0
        assert window.tcp_retrans_segs == 0


def cpu_busy_fraction(interval_s: float = 1.0) -> float:
    """Share of all CPUs' time spent busy (not idle/iowait) over ``interval_s``."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields[:8]) - idle, sum(fields[:8])

    busy0, total0 = sample()
    time.sleep(interval_s)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


@pytest.mark.parametrize(("rate", "size_bytes"), CASES,
                         ids=[f"{r * 8 / 1e6:g}Mbit-{s // MIB}MiB" for r, s in CASES])
def test_ring_allreduce_on_shaped_links(labs: dict[float, Lab], alpha_s: dict[float, float],
                                        rate: float, size_bytes: int) -> None:
    busy_before = cpu_busy_fraction()
    m = measure(labs[rate].state, size_bytes=size_bytes, reps=REPS,
                iters=iters_for(rate, size_bytes))
    busy = max(busy_before, cpu_busy_fraction())
    assert_bytes_exact(m)
    gamma = gamma_s_per_byte(size_bytes)
    expected_s = model_s(rate, size_bytes, alpha_s[rate], gamma)
    error = m.median_s / expected_s - 1
    print(f"\n{rate * 8 / 1e6:g} Mbit/s, {size_bytes} B: median {m.median_s * 1e3:.2f} ms, model "
          f"{expected_s * 1e3:.2f} ms (α {alpha_s[rate] * 1e6:.0f} µs, γ {gamma * 1e9:.2f} ns/B), "
          f"error {error:+.1%}; "
          f"other CPU use {busy:.0%}; per-call times of the windows "
          f"{[round(w.call_s * 1e3, 2) for w in m.windows]} ({m.windows[0].iters} calls each)")
    if busy > BUSY_HOST and abs(error) > TIME_TOLERANCE:
        pytest.xfail(f"bytes exact; time off: {m.median_s * 1e3:.1f} ms against a model of "
                     f"{expected_s * 1e3:.1f} ms ({error:+.0%}) while other work kept "
                     f"{busy:.0%} of the CPUs busy")
    assert abs(error) <= TIME_TOLERANCE, (m.median_s, expected_s)
