"""A fake server for the calibration experiment: the simulated server behind the client
Protocol, so the experiment's logic runs end to end without HTTP or a model."""

from __future__ import annotations

import math

import numpy as np

from mlfleet.serving.calibrate.client import BatchingPolicy, BatchSamples
from mlfleet.serving.calibrate.service import ServiceTimeModel
from mlfleet.serving.calibrate.simulate import DrawnBatchTime, simulate_server
from mlfleet.serving.loadgen import LoadRun, arrival_trace
from mlfleet.serving.loadgen_spec import LoadSpec, RequestRecord
from mlfleet.serving.sim.results import SimResult


def line_model(a_s: float = 0.004, b_s: float = 0.002, *, noise: float = 0.05,
               max_batch: int = 8) -> ServiceTimeModel:
    """A service model measured from 60 noisy batches of every size up to ``max_batch``."""
    rng = np.random.default_rng(7)
    sizes = np.repeat(np.arange(1, max_batch + 1), 60)
    cycle = (a_s + b_s * sizes) * rng.lognormal(0.0, noise, size=sizes.size)
    return ServiceTimeModel.fit(BatchSamples(size=sizes, cycle_s=cycle,
                                             dispatched_s=np.arange(sizes.size, dtype=float),
                                             last_seq=int(sizes.size)))


class SimulatedServer:
    """Answers like ``mlfleet serve``: every run is the simulated server with service
    times drawn from ``model``, a constant ``overhead_s`` outside the batcher, and a
    batch log on one monotonic clock (each run starts 1,000 s after the last)."""

    def __init__(self, policy: BatchingPolicy, model: ServiceTimeModel, *,
                 overhead_s: float = 0.001, seed: int = 0) -> None:
        self._policy, self.model, self.overhead_s = policy, model, overhead_s
        self._rng = np.random.default_rng(seed)
        self._clock_s = 0.0
        self._log: list[tuple[int, float, float]] = []

    @property
    def rank_url(self) -> str:
        return "http://fake:1/v1/rank"

    def policy(self) -> BatchingPolicy:
        return self._policy

    def batches(self, *, since: int = -1) -> BatchSamples:
        rows = self._log[since + 1:]
        return BatchSamples(size=np.array([r[0] for r in rows], dtype=np.int64),
                            cycle_s=np.array([r[1] for r in rows], dtype=np.float64),
                            dispatched_s=np.array([r[2] for r in rows], dtype=np.float64),
                            last_seq=len(self._log) - 1)

    def server_pid(self) -> int | None:
        return None

    def alive(self) -> bool:
        return True

    def replay(self, arrival_s: np.ndarray) -> tuple[SimResult, float]:
        """Simulate ``arrival_s`` and log its batches; the result and the run's time 0."""
        self._clock_s += 1000.0
        t0 = self._clock_s
        result = simulate_server(arrival_s, policy=self._policy, rng=self._rng,
                                 timing=DrawnBatchTime(self.model, self._rng))
        starts, first = np.unique(result.start_s[result.done], return_index=True)
        finish = result.finish_s[result.done][first]
        sizes = np.unique(result.start_s[result.done], return_counts=True)[1]
        self._log += [(int(b), float(f - s), float(s + t0))
                      for b, s, f in zip(sizes, starts, finish, strict=True)]
        return result, t0

    def _records(self, result: SimResult) -> list[RequestRecord]:
        records = []
        for i, arrival in enumerate(result.arrival_s):
            rec = RequestRecord(index=i, intended_s=float(arrival), sent_s=float(arrival))
            if result.done[i]:
                queue = float(result.start_s[i] - arrival)
                service = float(result.finish_s[i] - result.start_s[i])
                rec.status, rec.latency_s = "200", queue + service + self.overhead_s
                rec.server_s = {"pre": 0.0, "queue": queue, "service": service, "post": 0.0}
            else:
                rec.status, rec.latency_s, rec.retry_after_s = "429", self.overhead_s, 1.0
            records.append(rec)
        return records

    async def open_loop(self, spec: LoadSpec) -> LoadRun:
        result, t0 = self.replay(arrival_trace(spec))
        return LoadRun(records=self._records(result), t0_s=t0)

    async def closed_loop(self, spec: LoadSpec, *, concurrency: int) -> list[RequestRecord]:
        """Approximated by an open loop at the rate ``concurrency`` clients would offer
        if every request took one full batch time (enough to size every batch)."""
        rate = concurrency / self.model.mean_s(self._policy.max_batch_size)
        result, _ = self.replay(arrival_trace(LoadSpec(
            url=self.rank_url, rate_rps=rate, duration_s=spec.duration_s, seed=spec.seed)))
        return [r for r in self._records(result) if not math.isnan(r.latency_s)]
