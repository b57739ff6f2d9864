"""A judged canary on real servers: two ``mlfleet serve`` processes under real HTTP load.

Kayenta's practice: the canary is compared with a baseline deployed alongside it at the
same size and load, not with the long-running fleet. So a baseline server (default
settings) and a canary server (with the regression) start on free loopback ports; the
serving chapter's open-loop load generator drives both at the same Poisson rate for
``duration_s``; every response the clients saw (status, latency from its scheduled
arrival) is binned by arrival time into ``interval_s`` intervals; the judge decides.
``pass`` promotes; anything else rolls back (the run is over, so there is no holding).

Regressions on the canary server (real server settings, no code change):

* ``latency=F`` — its rank batcher waits up to ``4·F`` ms for a fuller batch
  (``--max-delay-ms``; the baseline's default is 4 ms), so at a light load each request
  waits about that much longer;
* ``errors=P`` — its admission is a token bucket refilling at ``(1-P)·rate`` (burst 2):
  requests beyond it get 429; the share refused is measured, not set (about P or more).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from mlfleet.checks import positive, positive_int
from mlfleet.ops.canary.errors import CanaryInputError
from mlfleet.ops.canary.interval_series import FloatArray, interval_series
from mlfleet.ops.canary.judge import JudgeResult, judge
from mlfleet.ops.canary.judge_config import JudgeConfig
from mlfleet.ops.canary.regression import Regression
from mlfleet.ops.canary.sim_run import SERVING_METRICS

BASE_DELAY_MS = 4.0
"""``mlfleet serve``'s default ``--max-delay-ms``."""

REAL_METRICS = replace(SERVING_METRICS, metrics=tuple(
    replace(m, allowed_increase=1.5) if m.name.startswith("latency") else m
    for m in SERVING_METRICS.metrics))
"""The sim's metrics, latencies with a 50 % effect-size floor: two identical servers on
this shared 2-core host differed by up to 25 % in median latency (a good canary's
p50 ratio was 1.25 in one 10-s run), for reasons no release caused."""


@dataclass(frozen=True, kw_only=True)
class RealSetup:
    """Load and intervals of a real canary."""

    duration_s: float = 20.0
    rate_rps: float = 40.0
    """Poisson request rate to each server."""
    interval_s: float = 1.0
    min_requests_per_interval: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        err = CanaryInputError
        positive("--duration", self.duration_s, error=err)
        positive("--rate", self.rate_rps, error=err)
        positive("--interval", self.interval_s, error=err)
        positive_int("--seed", self.seed, minimum=0, error=err)
        if self.duration_s / self.interval_s < 4 or self.duration_s > 3600:
            raise err(f"--duration(={self.duration_s:g} s) must hold at least 4 intervals "
                      f"of {self.interval_s:g} s and be at most 3600 s")
        if self.rate_rps > 2000:
            raise err(f"--rate(={self.rate_rps:g}) must be <= 2000 req/s per server")


@dataclass(frozen=True, kw_only=True)
class RealCanary:
    """What happened: the decision, the judge's result, and what the clients saw."""

    decision: str
    """``promoted`` or ``rolled_back``."""
    result: JudgeResult
    canary_args: tuple[str, ...]
    baseline: dict[str, FloatArray]
    canary: dict[str, FloatArray]


def canary_args(regression: Regression, *, rate_rps: float) -> tuple[str, ...]:
    """``mlfleet serve`` options that give the canary server ``regression``."""
    if regression.kind == "latency":
        return ("--max-delay-ms", f"{BASE_DELAY_MS * regression.amount:g}")
    if regression.kind == "errors":
        rate = (1 - regression.amount) * rate_rps
        return ("--admission", "token_bucket", "--admission-param", f"rate_per_s={rate:g}",
                "--admission-param", "burst=2")
    if regression.kind == "variance":
        raise CanaryInputError("--regression variance=... is simulator-only; on real servers "
                               "use none, latency=F or errors=P")
    return ()


@contextlib.contextmanager
def two_servers(args: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """A baseline and a canary ``mlfleet serve``; both stopped on every path (Ctrl-C: at once)."""
    from mlfleet.infra.isolation.pinning import server_pid
    from mlfleet.serving.server.process import server_process
    from mlfleet.stop_signals import signals_held

    stack, pids = contextlib.ExitStack(), []
    try:
        urls = []
        for extra in ((), args):
            urls.append(stack.enter_context(server_process(("--torch-threads", "1", *extra))))
            pids.append(server_pid(urls[-1]))
        yield urls[0], urls[1]
    except KeyboardInterrupt:  # stop now: a graceful stop can take a second
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        with signals_held():
            stack.close()


def _series(run: object, setup: RealSetup) -> dict[str, FloatArray]:
    records = [r for r in run.records if r.status != "dropped"]  # type: ignore[attr-defined]
    return interval_series(
        time_s=np.array([r.intended_s for r in records], dtype=float),
        latency_s=np.array([r.latency_s for r in records], dtype=float),
        ok=np.array([r.status == "200" for r in records], dtype=bool),
        start_s=0.0, interval_s=setup.interval_s,
        n_intervals=int(setup.duration_s // setup.interval_s),
        min_requests=setup.min_requests_per_interval)


def run_real_canary(regression: Regression, *, setup: RealSetup,
                    config: JudgeConfig = REAL_METRICS) -> RealCanary:
    """Start both servers, drive both, judge. Raises RunError if a server fails to start."""
    import asyncio

    from mlfleet.serving.loadgen import run_load_async
    from mlfleet.serving.loadgen_spec import LoadSpec

    args = canary_args(regression, rate_rps=setup.rate_rps)

    async def drive(base: str, canary: str) -> list[object]:
        specs = [LoadSpec(url=f"{url}/v1/rank", rate_rps=setup.rate_rps,
                          duration_s=setup.duration_s, seed=setup.seed, timeout_s=10.0)
                 for url in (base, canary)]
        return list(await asyncio.gather(*(run_load_async(s) for s in specs)))

    with two_servers(args) as (base_url, canary_url):
        base_run, canary_run = asyncio.run(drive(base_url, canary_url))
    baseline, canary = _series(base_run, setup), _series(canary_run, setup)
    result = judge(config, baseline=baseline, canary=canary)
    return RealCanary(decision="promoted" if result.decision == "pass" else "rolled_back",
                      result=result, canary_args=args, baseline=baseline, canary=canary)
