"""The launcher of ``mlfleet run train``: start the world, watch it, recover it.

Our own rather than torchrun's elastic agent, for what the run has to measure and cause:
torchrun restarts every worker on any failure too, but it learns of a failure only from
an exit code (a hung worker is invisible to it until a collective times out, 30 min by
default for gloo), it does not commit checkpoints, and it cannot say when a fault struck.
Here each rank sends a heartbeat and a line per step over a pipe, so the supervisor

* detects a dead rank from its exit (code or signal) and a hung one from a stale
  heartbeat (``hang_timeout_s``), and blames the root cause, not the peers that lost it;
* commits a checkpoint step (``CheckpointStore.commit``) once every rank's shard of it is
  durable: no collective is needed for that, so an asynchronous write never blocks training;
* on a failure kills the whole world (each rank's process group), picks
  ``store.latest_good()`` (skipping corrupt checkpoints) and relaunches, up to
  ``max_restarts`` times; in elastic mode with one rank fewer (re-sharding the data, the
  learning rate rescaled when asked), growing back to full size at a checkpoint step
  ``rejoin_after`` steps later.
"""

from __future__ import annotations

import contextlib
import math
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlfleet.errors import RunError, one_line
from mlfleet.reliability.train.commit import Committer
from mlfleet.reliability.train.inject import Injection, draw_random_kill
from mlfleet.reliability.train.job import BALLAST_NAME, RankJob, TrainSpec
from mlfleet.reliability.train.ranks import ForkServer, World
from mlfleet.reliability.train.record import Attempt, Failure, RunRecord
from mlfleet.storage.checkpoint import CheckpointStore

_GRACE_S = 0.5
"""After a first failure, how long to wait for its root cause (a rank that died) to show."""
_POLL_S = 0.05


@dataclass(frozen=True, kw_only=True)
class SupervisorConfig:
    """How the world is run and recovered."""

    ranks: int
    """Initial (and full) world size."""
    ckpt_root: Path
    injections: tuple[Injection, ...] = ()
    hang_timeout_s: float = 10.0
    """A rank silent this long (no heartbeat) is hung."""
    startup_timeout_s: float = 300.0
    """Ranks must join within this (importing torch on a loaded host is slow)."""
    max_restarts: int = 10
    elastic: bool = False
    rescale_lr: bool = False
    """Elastic: scale the learning rate with the world size (Goyal et al. 2017)."""
    rejoin_after: int | None = None
    """Elastic: steps after a shrink before the world grows back (None: never)."""
    resume: bool = False
    """Start from the newest good checkpoint already under ``ckpt_root``."""
    inject_seed: int = 0
    log_dir: Path | None = None
    """Every rank appends its spans to ``LOG_DIR/rank-NNNNN.jsonl`` (None: no logs)."""


@dataclass
class _AttemptState:
    """Per-attempt bookkeeping of the event stream."""

    world: int
    ready: set[int] = field(default_factory=set)
    heard: set[int] = field(default_factory=set)
    done: set[int] = field(default_factory=set)
    exited: set[int] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)
    shards: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[int, Failure]] = field(default_factory=list)
    fault_t: float | None = None
    reached_step: int = 0
    last_step_t: tuple[int, float] | None = None
    """Rank 0's last completed step and when (for the step cycle)."""


class Supervisor:
    """Runs a :class:`TrainSpec` to its last step through failures (see the module docstring)."""

    def __init__(self, spec: TrainSpec, config: SupervisorConfig, *,
                 on_step: Callable[[int], None] | None = None,
                 server: ForkServer | None = None) -> None:
        """``server``: a running fork server to use (and leave running); None: one per run."""
        self.spec, self.config, self.on_step, self.server = spec, config, on_step, server
        self.store = CheckpointStore(config.ckpt_root, keep_last=spec.keep_last,
                                     keep_every=spec.keep_every, compression=spec.compression)
        self.record = RunRecord(start_t=time.monotonic())
        self.fired: set[int] = set()
        self.committer = Committer(self.store, self.record, config.injections, self.fired)
        self.rng = np.random.default_rng([config.inject_seed, 0xFA11])

    def run(self) -> RunRecord:
        """Train to the last step; RunError when restarts run out."""
        config, world, stop = self.config, self.config.ranks, self.spec.steps
        self.record.start_t = time.monotonic()
        resume = self._recovery_step() if config.resume else 0
        restarts = 0
        with tempfile.TemporaryDirectory(prefix="mlfleet-train-") as tmp, \
                self._ballast_removed(), self._fork_server(Path(tmp)) as server:
            while True:
                attempt = self._attempt(Path(tmp), server, world, resume, stop)
                if attempt.failure is None and stop == self.spec.steps:
                    break
                if attempt.failure is None:  # elastic regrow point reached
                    world, resume, stop = config.ranks, stop, self.spec.steps
                    continue
                restarts += 1
                if restarts > config.max_restarts:
                    raise RunError(f"gave up after {config.max_restarts} restarts; last failure: "
                                   f"{attempt.failure.message}")
                resume = self._recovery_step()
                world, stop = self._next_world(world, resume)
        self.record.end_t = time.monotonic()
        return self.record

    @contextlib.contextmanager
    def _ballast_removed(self) -> Iterator[None]:
        """However the run ends, a disk-full ballast file does not outlive it."""
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                (self.config.ckpt_root / BALLAST_NAME).unlink()

    def _next_world(self, world: int, resume: int) -> tuple[int, int]:
        if not self.config.elastic or world == 1:
            return world, self.spec.steps
        if self.config.rejoin_after is None:
            return world - 1, self.spec.steps
        every = self.spec.ckpt_every
        regrow = math.ceil((resume + self.config.rejoin_after) / every) * every
        return world - 1, min(self.spec.steps, regrow)

    def _recovery_step(self) -> int:
        info = self.store.latest_good(
            on_skip=lambda exc: self.record.skipped_checkpoints.append(one_line(str(exc))))
        return 0 if info is None else info.step

    def _lr_scale(self, world: int) -> float:
        return world / self.config.ranks if self.config.rescale_lr else 1.0

    # -- one attempt -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _fork_server(self, tmp: Path) -> Iterator[ForkServer]:
        if self.server is not None:
            yield self.server
            return
        server = ForkServer(log_path=tmp / "forkserver.log",
                            timeout_s=self.config.startup_timeout_s)
        try:
            yield server
        finally:
            server.close()

    def _attempt(self, tmp: Path, server: ForkServer, world: int, resume: int,
                 stop: int) -> Attempt:
        log_dir = tmp / f"attempt-{len(self.record.attempts)}"
        log_dir.mkdir()
        attempt = Attempt(world=world, resume_step=resume, stop_step=stop,
                          launch_t=time.monotonic())
        self.record.attempts.append(attempt)
        jobs = self._rank_jobs(world, resume, stop, log_dir / "rendezvous")
        ranks = World(jobs, server=server, log_dir=log_dir)
        state = _AttemptState(world=world)
        try:
            attempt.failure = self._watch(ranks, state, attempt)
        finally:
            ranks.stop()
            attempt.end_t = time.monotonic()
            attempt.reached_step = state.reached_step
        return attempt

    def _rank_jobs(self, world: int, resume: int, stop: int, rendezvous: Path) -> list[RankJob]:
        kills = self._faults("kill", world, resume, stop)
        draw = self._random_kill(world, resume, stop)
        if draw is not None and draw[1] < kills.get(draw[0], stop + 1):
            kills[draw[0]] = draw[1]
        hangs = self._faults("hang", world, resume, stop)
        disk = self._faults("disk-full", 1, resume, stop)
        slow = {i.rank: i.factor for i in self.config.injections if i.kind == "slow"}
        nans = self._faults("nan", world, resume, stop)
        spikes = self._faults("spike", world, resume, stop)
        spike_factor = {i.rank: i.factor for i in self.config.injections if i.kind == "spike"}
        log_dir = None if self.config.log_dir is None else str(self.config.log_dir)
        timeout_s = max(120.0, 4 * self.config.hang_timeout_s)
        return [RankJob(spec=self.spec, rank=r, world=world, ckpt_root=str(self.config.ckpt_root),
                        rendezvous_path=str(rendezvous), resume_step=resume or None,
                        stop_step=stop, lr_scale=self._lr_scale(world), kill_step=kills.get(r),
                        hang_step=hangs.get(r), fill_disk_step=disk.get(0),
                        slow_factor=slow.get(r) or 1.0, collective_timeout_s=timeout_s,
                        nan_step=nans.get(r), spike_step=spikes.get(r),
                        spike_factor=spike_factor.get(r) or 1.0, log_dir=log_dir,
                        heartbeat_s=min(0.2, self.config.hang_timeout_s / 5))
                for r in range(world)]

    def _faults(self, kind: str, world: int, resume: int, stop: int) -> dict[int, int]:
        """rank -> step of the unfired faults of ``kind`` this attempt would reach."""
        found: dict[int, int] = {}
        for i, inj in enumerate(self.config.injections):
            if inj.kind != kind or i in self.fired or inj.step is None:
                continue
            rank = inj.rank or 0
            if rank < world and resume < inj.step <= stop:
                found[rank] = min(found.get(rank, inj.step), inj.step)
        return found

    def _random_kill(self, world: int, resume: int, stop: int) -> tuple[int, int] | None:
        for inj in self.config.injections:
            if inj.kind == "random-kill" and inj.rate_per_rank_step is not None:
                return draw_random_kill(self.rng, rate_per_rank_step=inj.rate_per_rank_step,
                                        world=world, first_step=resume + 1, last_step=stop)
        return None

    def _watch(self, ranks: World, state: _AttemptState, attempt: Attempt) -> Failure | None:
        """Pump events until every rank is done (None) or a failure is diagnosed."""
        first_failure_t: float | None = None
        while len(state.exited) < state.world:
            for rank, event in ranks.poll(_POLL_S):
                self._handle(state, attempt, rank, event)
            now = time.monotonic()
            if not state.failures:
                self._check_silence(ranks, state, attempt, now)
            if state.failures and first_failure_t is None:
                first_failure_t = now
            if first_failure_t is not None and (now - first_failure_t > _GRACE_S
                                                or len(state.exited) == state.world):
                return min(state.failures, key=lambda f: (f[0], f[1].detected_t))[1]
        return min(state.failures, key=lambda f: (f[0], f[1].detected_t))[1] \
            if state.failures else None

    def _check_silence(self, ranks: World, state: _AttemptState, attempt: Attempt,
                       now: float) -> None:
        if len(state.ready) < state.world and now - attempt.launch_t > self.config.startup_timeout_s:
            late = sorted(set(range(state.world)) - state.ready)
            self._fail(state, 0, "stalled", late[0], f"ranks {late} did not start within "
                       f"{self.config.startup_timeout_s:g} s", now)
            return
        for proc in ranks.ranks:
            silent_s = now - proc.last_heard_t
            if proc.rank in state.heard and not proc.exited and \
                    silent_s > self.config.hang_timeout_s:
                self._fail(state, 0, "hung", proc.rank, f"rank {proc.rank} hung: no heartbeat "
                           f"for {silent_s:.1f} s (--hang-timeout "
                           f"{self.config.hang_timeout_s:g} s)", now)
                return

    def _fail(self, state: _AttemptState, severity: int, kind: str, rank: int, message: str,
              now: float) -> None:
        state.failures.append((severity, Failure(
            kind=kind, rank=rank, message=message, last_step=state.reached_step,
            fault_t=state.fault_t, detected_t=now)))

    def _handle(self, state: _AttemptState, attempt: Attempt, rank: int,
                event: dict[str, Any]) -> None:
        kind, t = event["event"], float(event["t"])
        state.heard.add(rank)
        if kind == "ready":
            state.ready.add(rank)
            if len(state.ready) == state.world:
                attempt.ready_t = t
        elif kind == "step":
            self._on_step(state, attempt, rank, event)
        elif kind in ("shard", "ckpt-error"):
            results = state.shards.setdefault(int(event["step"]), {})
            results[rank] = event
            if len(results) == state.world:
                self.committer.complete(int(event["step"]), state.world, results)
        elif kind == "inject":
            self._on_inject(state, rank, event)
        elif kind == "done":
            state.done.add(rank)
            if len(state.done) == state.world:
                attempt.done_t = t
            if rank == 0:
                self.record.sha256 = str(event["sha256"])
        elif kind == "error":
            state.reported.add(rank)
            self._fail(state, 1, "error", rank, f"rank {rank}: {event['message']}", t)
        elif kind == "exit":
            self._on_exit(state, rank, event)

    def _on_step(self, state: _AttemptState, attempt: Attempt, rank: int,
                 event: dict[str, Any]) -> None:
        step = int(event["step"])
        state.reached_step = max(state.reached_step, step)
        if attempt.first_step_t is None:
            attempt.first_step_t = float(event["t"])
        if rank == 0 and attempt.first_lr is None:
            attempt.first_lr = float(event["lr"])
        self.record.compute_s.setdefault(rank, []).append((step, float(event["compute_s"])))
        if rank == 0:
            t, last = float(event["t"]), state.last_step_t
            if last is not None and last[0] == step - 1 and (step - 1) % self.spec.ckpt_every:
                self.record.cycles_s.append(t - last[1])
            state.last_step_t = (step, t)
            self.record.step_s[step] = float(event["step_s"])
            self.record.steps_executed += 1
            self.record.final_loss = float(event["loss"])
            if self.on_step is not None:
                self.on_step(step)

    def _on_inject(self, state: _AttemptState, rank: int, event: dict[str, Any]) -> None:
        state.fault_t = float(event["t"])
        self.record.injected.append(f"{event['kind']} on rank {rank} at step {event['step']}")
        for i, inj in enumerate(self.config.injections):
            if inj.kind == event["kind"] and inj.step == event["step"] and \
                    (inj.rank or 0) == rank:
                self.fired.add(i)

    def _on_exit(self, state: _AttemptState, rank: int, event: dict[str, Any]) -> None:
        state.exited.add(rank)
        code = int(event["code"])
        if code == 0 and rank in state.done or rank in state.reported:
            return
        why = (f"killed by {signal.Signals(-code).name}" if code < 0
               else f"exited with status {code}")
        tail = f": {event['stderr']}" if event.get("stderr") and code > 0 else ""
        self._fail(state, 0, "died", rank, f"rank {rank} {why}{tail}", float(event["t"]))
