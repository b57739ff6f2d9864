"""Queueing delay for the plan: the engine against Erlang C, and the estimate's shape."""

from __future__ import annotations

import numpy as np
import pytest

from mlfleet.errors import InputError
from mlfleet.infra.scheduling.engine import simulate
from mlfleet.infra.scheduling.policies.tiresias import TiresiasPolicy
from mlfleet.infra.scheduling.queueing import expected_queueing_delay
from mlfleet.infra.scheduling.speed.model import JobSpeed
from mlfleet.infra.scheduling.speed.trace import LocalityModel, TraceSpeed
from mlfleet.infra.scheduling.types import JobSpec
from mlfleet.serving.models.queueing import erlang_c, mean_wait_s


def mmc_run(seed: int, *, servers: int, rho: float, mean_s: float, jobs: int
            ) -> tuple[float, float]:
    """(mean wait, fraction that waited) of single-GPU exponential jobs in FIFO order.

    Tiresias with an unreachable demotion threshold and 1-GPU jobs is FIFO: everyone
    stays in the first queue in arrival order, and a running job is never overtaken."""
    rng = np.random.default_rng(seed)
    lam = rho * servers / mean_s
    times = np.cumsum(rng.exponential(1 / lam, jobs))
    sizes = rng.exponential(mean_s, jobs)
    specs = [JobSpec(name=f"j{i}", submit_s=float(t), gpus=1, duration_s=float(d))
             for i, (t, d) in enumerate(zip(times, sizes, strict=True))]
    loc = LocalityModel(gpus_per_node=1)
    speeds: list[JobSpeed] = [TraceSpeed(duration_s=float(d), gpus=1, locality=loc)
                              for d in sizes]
    result = simulate(specs, speeds, TiresiasPolicy(interval_s=1.0, threshold_gpu_s=1e18),
                      nodes=servers, gpus_per_node=1, restart_delay_s=0.0)
    waits = np.array([r.queueing_s for r in result.records], dtype=np.float64)
    return float(waits.mean()), float(np.mean(waits > 1.0))  # < 1 s: the round's alignment


@pytest.mark.slow
def test_engine_reproduces_erlang_c() -> None:
    """M/M/8 at 70 %, 40,000 jobs x 3 seeds, 1 s rounds. Observed: mean wait 116.1 s vs
    Erlang C 112.75 s (+3.0 %); P(wait) 0.2695 vs 0.2706 (-0.4 %)."""
    servers, rho, mean_s = 8, 0.7, 1000.0
    runs = [mmc_run(seed, servers=servers, rho=rho, mean_s=mean_s, jobs=40_000)
            for seed in (1, 2, 3)]
    lam, mu = rho * servers / mean_s, 1 / mean_s
    wait = float(np.mean([r[0] for r in runs]))
    waited = float(np.mean([r[1] for r in runs]))
    assert wait == pytest.approx(float(mean_wait_s(servers, lam, mu)), rel=0.08)
    assert waited == pytest.approx(float(erlang_c(servers, lam, mu)), rel=0.04)


def test_bigger_jobs_wait_longer() -> None:
    small = expected_queueing_delay(cluster_gpus=64, gpus_per_node=8, job_gpus=1,
                                    job_duration_s=3600.0, policy="tiresias")
    whole = expected_queueing_delay(cluster_gpus=64, gpus_per_node=8, job_gpus=64,
                                    job_duration_s=3600.0, policy="tiresias")
    assert whole.mean_s > 10 * small.mean_s
    assert small.mean_s <= 60.0  # a 1-GPU job starts at the next round


@pytest.mark.parametrize("policy", ["tiresias", "fifo"])
def test_higher_load_waits_at_least_as_long(policy: str) -> None:
    light, heavy = (expected_queueing_delay(cluster_gpus=64, gpus_per_node=8, job_gpus=32,
                                            job_duration_s=7200.0, policy=policy, load=load)
                    for load in (0.2, 0.9))
    assert heavy.mean_s >= light.mean_s
    assert heavy.p95_s >= heavy.mean_s * 0.5 and light.probes == 24


def test_same_seed_same_estimate() -> None:
    def once() -> object:
        return expected_queueing_delay(cluster_gpus=32, gpus_per_node=8, job_gpus=8,
                                       job_duration_s=600.0, seed=3)

    assert once() == once()


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"job_gpus": 65}, "job_gpus(=65) must be <= cluster_gpus(=64)"),
    ({"load": 1.0}, "load"),
    ({"policy": "nope"}, "policy(='nope') is unknown"),
    ({"job_duration_s": 0.0}, "job_duration_s"),
])
def test_bad_arguments(overrides: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"cluster_gpus": 64, "gpus_per_node": 8, "job_gpus": 8,
                               "job_duration_s": 600.0, **overrides}
    with pytest.raises(InputError) as err:
        expected_queueing_delay(**args)  # type: ignore[arg-type]
    assert fragment in str(err.value)
