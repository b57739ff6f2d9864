"""Figures of a run: lost steps, detection and recovery time, checkpoint stall, goodput,
and the goodput Daly's model predicts from the run's own measured costs.

Definitions (seconds, from the supervisor's and ranks' shared monotonic clock):

* **detection** — injected fault -> the supervisor diagnoses it (exit seen, or heartbeat
  stale for ``--hang-timeout``);
* **recovery** — diagnosis -> the first step completed by the relaunched world (kill the
  world, start processes, join gloo, load and verify the checkpoint, one step);
* **lost steps** — steps completed before the failure beyond the checkpoint resumed from
  (work done twice);
* **step cycle** — rank 0's time from one step to the next where no checkpoint lies
  between (mean over the run); **useful time** = job steps x step cycle;
* **wall time** — the supervisor's start -> every rank of the last attempt reported done
  (the processes' exit is not counted);
* **goodput** = useful time / (wall time - the first start-up), the quantity Daly's
  model predicts (the first start-up is a cost of any job, failing or not);
* **model** — ``daly_goodput(interval = ckpt_every x step cycle, ckpt = mean stall,
  restart = mean detection + recovery, MTBF)``, MTBF from the injected rate for
  ``random-kill`` (step cycle / P(some rank fails in a step)), else observed
  (run time / failures).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from mlfleet.reliability.checkpoint_interval import daly_goodput
from mlfleet.reliability.train.inject import Injection
from mlfleet.reliability.train.record import Attempt, RunRecord
from mlfleet.reliability.train.stragglers import StragglerFinding, detect_stragglers


@dataclass(frozen=True, kw_only=True)
class FailureReport:
    """One failure and what it cost."""

    kind: str
    rank: int
    message: str
    step: int
    """Highest step completed when it was detected."""
    resumed_from_step: int
    lost_steps: int
    detection_s: float | None
    """None when the fault was not injected (its start is unknown)."""
    recovery_s: float | None
    """None when the run never stepped again."""


@dataclass(frozen=True, kw_only=True)
class ModelComparison:
    """Daly's goodput for the run's measured costs against the measured goodput."""

    interval_s: float
    ckpt_s: float
    restart_s: float
    mtbf_s: float | None
    mtbf_source: str
    predicted_goodput: float
    measured_goodput: float
    relative_error: float
    """(predicted - measured) / measured."""


@dataclass(frozen=True, kw_only=True)
class TrainReport:
    """Everything ``mlfleet run train`` prints."""

    steps: int
    ranks: int
    restarts: int
    steps_executed: int
    lost_steps: int
    failures: tuple[FailureReport, ...]
    world_sizes: tuple[tuple[int, int, float | None], ...]
    """``(from_step, world, learning rate of its first step)`` for each attempt."""
    checkpoints_committed: int
    checkpoint_errors: tuple[str, ...]
    ckpt_stall_s: float | None
    """Mean over committed checkpoints of the longest stall of a rank."""
    ckpt_write_s: float | None
    ckpt_bytes: int | None
    """Bytes of the last committed checkpoint (all shards)."""
    wall_s: float
    startup_s: float
    step_cycle_s: float
    useful_s: float
    goodput: float
    model: ModelComparison
    stragglers: tuple[StragglerFinding, ...]
    injected: tuple[str, ...]
    skipped_checkpoints: tuple[str, ...]
    final_loss: float | None
    sha256: str | None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["world_sizes"] = [{"from_step": s, "world": w, "lr": lr}
                            for s, w, lr in self.world_sizes]
        d["stragglers"] = [{**asdict(f), "text": f.text()} for f in self.stragglers]
        return d


def build_report(record: RunRecord, *, steps: int, ranks: int, ckpt_every: int,
                 injections: tuple[Injection, ...]) -> TrainReport:
    """The report of a finished run."""
    assert record.end_t is not None and record.attempts
    failures = tuple(_failure(a, b) for a, b in zip(record.attempts, record.attempts[1:],
                                                    strict=False) if a.failure is not None)
    first = record.attempts[0]
    startup_s = (first.ready_t or first.end_t or record.end_t) - record.start_t
    cycle_s = statistics.fmean(record.cycles_s) if record.cycles_s else 0.0
    done_t = record.attempts[-1].done_t or record.end_t
    run_s = max(done_t - record.start_t - startup_s, 1e-9)
    committed = [c for c in record.checkpoints if c.committed]
    stall_s = statistics.fmean(c.stall_s or 0.0 for c in committed) if committed else None
    goodput = steps * cycle_s / run_s
    model = _model(failures, cycle_s=cycle_s, ckpt_s=stall_s or 0.0, ckpt_every=ckpt_every,
                   run_s=run_s, ranks=ranks, injections=injections, goodput=goodput)
    return TrainReport(
        steps=steps, ranks=ranks, restarts=len(failures), steps_executed=record.steps_executed,
        lost_steps=sum(f.lost_steps for f in failures), failures=failures,
        world_sizes=tuple((a.resume_step, a.world, a.first_lr) for a in record.attempts),
        checkpoints_committed=len(committed),
        checkpoint_errors=tuple(f"step {c.step}: {c.error}" for c in record.checkpoints
                                if c.error),
        ckpt_stall_s=stall_s,
        ckpt_write_s=statistics.fmean(c.write_s or 0.0 for c in committed) if committed else None,
        ckpt_bytes=committed[-1].bytes if committed else None,
        wall_s=done_t - record.start_t, startup_s=startup_s, step_cycle_s=cycle_s,
        useful_s=steps * cycle_s, goodput=goodput, model=model,
        stragglers=tuple(detect_stragglers(record.compute_s)), injected=tuple(record.injected),
        skipped_checkpoints=tuple(record.skipped_checkpoints), final_loss=record.final_loss,
        sha256=record.sha256)


def _failure(failed: Attempt, next_attempt: Attempt) -> FailureReport:
    f = failed.failure
    assert f is not None
    return FailureReport(
        kind=f.kind, rank=f.rank, message=f.message, step=f.last_step,
        resumed_from_step=next_attempt.resume_step,
        lost_steps=max(0, f.last_step - next_attempt.resume_step),
        detection_s=None if f.fault_t is None else f.detected_t - f.fault_t,
        recovery_s=None if next_attempt.first_step_t is None
        else next_attempt.first_step_t - f.detected_t)


def _model(failures: tuple[FailureReport, ...], *, cycle_s: float, ckpt_s: float,
           ckpt_every: int, run_s: float, ranks: int, injections: tuple[Injection, ...],
           goodput: float) -> ModelComparison:
    interval_s = max(ckpt_every * cycle_s, 1e-9)
    restart_s = statistics.fmean((f.detection_s or 0.0) + (f.recovery_s or 0.0)
                                 for f in failures) if failures else 0.0
    rate = next((i.rate_per_rank_step for i in injections if i.kind == "random-kill"), None)
    if rate is not None:
        mtbf_s: float | None = cycle_s / (1.0 - (1.0 - rate) ** ranks)
        source = f"injected: random-kill rate {rate:g} per rank-step x {ranks} ranks"
    elif failures:
        mtbf_s, source = run_s / len(failures), f"observed: {len(failures)} failures"
    else:
        mtbf_s, source = None, "no failures: goodput = interval / (interval + checkpoint)"
    if mtbf_s is None or mtbf_s <= 0:
        predicted = interval_s / (interval_s + ckpt_s)
    else:
        predicted = daly_goodput(interval_s=interval_s, ckpt_s=ckpt_s, restart_s=restart_s,
                                 mtbf_s=mtbf_s)
    return ModelComparison(interval_s=interval_s, ckpt_s=ckpt_s, restart_s=restart_s,
                           mtbf_s=mtbf_s, mtbf_source=source, predicted_goodput=predicted,
                           measured_goodput=goodput,
                           relative_error=(predicted - goodput) / goodput if goodput else 0.0)
