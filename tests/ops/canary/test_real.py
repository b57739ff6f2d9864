"""Judged canaries on two real ``mlfleet serve`` processes under real HTTP load.

The regression is large (the canary's batcher waits up to 100 ms instead of 4 ms) and
the latency metrics carry a 50 % effect-size floor, so that a loaded 2-core host can
neither hide the bad canary nor fail the good one. Observed on this host (20 s at
40 req/s per server, 1-s intervals): idle, p50 10 ms; at load average 7.6 (other
sessions' work), the baseline's p50 was 65 ms and a canary waiting 24 ms had a p50
ratio of only 1.69 in one run and under 1.5 in another, hence 100 ms; a good canary's
p50 ratio reached 1.25.
"""

from __future__ import annotations

import signal
import time

import pytest

from mlfleet.ops.canary.real_run import RealSetup, run_real_canary
from mlfleet.ops.canary.regression import parse_regression

SETUP = RealSetup(duration_s=20.0, rate_rps=40.0, interval_s=1.0)


@pytest.mark.slow
@pytest.mark.serial
def test_a_slow_canary_server_is_rolled_back() -> None:
    outcome = run_real_canary(parse_regression("latency=25"), setup=SETUP)
    assert outcome.canary_args == ("--max-delay-ms", "100")
    assert outcome.decision == "rolled_back"
    labels = {m.name: m.label for m in outcome.result.metrics}
    assert labels["latency_p50_s"] == "High"


@pytest.mark.slow
@pytest.mark.serial
def test_a_good_canary_server_is_promoted() -> None:
    outcome = run_real_canary(parse_regression("none"), setup=SETUP)
    assert outcome.decision == "promoted", [(m.name, m.label, m.ratio)
                                            for m in outcome.result.metrics]
    assert outcome.result.score == 100.0


@pytest.mark.slow
@pytest.mark.serial
def test_ctrl_c_stops_the_real_canary_and_both_servers() -> None:
    """SIGINT once both servers run: exit 130 within 3 s, one line at most, no survivors."""
    from test_signals import _assert_clean_stop, _descendants, _start, _stop, _survivors

    child, seen = _start(["ops", "canary", "real", "--duration", "60s"], run_for_s=1.0,
                         want_children=2)
    time.sleep(1.0)
    seen.update(_descendants(child.pid))
    _assert_clean_stop(*_stop(child, signal.SIGINT), expected=130)
    assert _survivors(seen) == []
