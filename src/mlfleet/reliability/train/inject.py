"""``--inject`` specs: the faults ``mlfleet run train`` causes on purpose.

    kill:rank=2,step=137        rank 2 SIGKILLs itself when it reaches step 137 (once)
    random-kill:rate=0.01       each rank dies at each step with this probability (seeded)
    hang:rank=1,step=50         rank 1 stops (SIGSTOP) at step 50: no heartbeat, no progress
    corrupt:step=40             one byte of a shard of the step-40 checkpoint is flipped
                                after it is committed (found when a recovery loads it)
    disk-full:step=60           the checkpoint directory's file system is filled just before
                                the step-60 checkpoint (only on a small one: see below)
    slow:rank=3,factor=3        rank 3 takes 3x as long per step from the start (straggler)
    nan:rank=1,step=30          rank 1's gradient is NaN at step 30 (every rank then skips
                                that optimizer step, as a loss scaler does)
    spike:rank=0,step=40,factor=20  rank 0's inputs are scaled 20x at step 40 (a loss spike)

Each spec is checked against the run (ranks, steps, checkpoint steps) before anything
starts; a bad one raises :class:`InjectError` naming it and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mlfleet.errors import InputError

KINDS = ("kill", "random-kill", "hang", "corrupt", "disk-full", "slow", "nan", "spike")
"""Fault kinds ``--inject`` takes."""
_KEYS: dict[str, tuple[str, ...]] = {
    "kill": ("rank", "step"), "random-kill": ("rate",), "hang": ("rank", "step"),
    "corrupt": ("step",), "disk-full": ("step",), "slow": ("rank", "factor"),
    "nan": ("rank", "step"), "spike": ("rank", "step", "factor"),
}


class InjectError(InputError):
    """A malformed ``--inject`` spec, or one the run's ranks or steps rule out."""


@dataclass(frozen=True, kw_only=True)
class Injection:
    """One fault to cause; fields a kind does not use are None."""

    kind: str
    """One of :data:`KINDS`."""
    rank: int | None = None
    """The rank it strikes (kill, hang, slow, nan, spike)."""
    step: int | None = None
    """The step it strikes at (kill, hang, corrupt, disk-full, nan, spike)."""
    rate_per_rank_step: float | None = None
    """random-kill: probability that a rank dies at a step."""
    factor: float | None = None
    """slow: step time multiplier; spike: input scale."""

    def text(self) -> str:
        """The spec as a user writes it."""
        fields = {"rank": self.rank, "step": self.step, "rate": self.rate_per_rank_step,
                  "factor": self.factor}
        return self.kind + ":" + ",".join(f"{k}={v}" for k, v in fields.items() if v is not None)


def parse_injection(text: str) -> Injection:
    """``"kill:rank=2,step=137"`` -> :class:`Injection` (InjectError when malformed)."""
    kind, _, rest = text.strip().partition(":")
    if kind not in _KEYS:
        raise InjectError(f"--inject {text!r}: kind {kind!r} is unknown; known: {', '.join(KINDS)}")
    values: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        key, eq, value = part.partition("=")
        if not eq or key.strip() not in _KEYS[kind] or key.strip() in values:
            raise InjectError(f"--inject {text!r}: {part!r} is not one of "
                              f"{', '.join(k + '=…' for k in _KEYS[kind])} (each once)")
        values[key.strip()] = value.strip()
    missing = [k for k in _KEYS[kind] if k not in values]
    if missing:
        raise InjectError(f"--inject {text!r}: {kind} needs {', '.join(k + '=' for k in missing)}")
    return Injection(kind=kind, rank=_int(text, values, "rank"), step=_int(text, values, "step"),
                     rate_per_rank_step=_float(text, values, "rate"),
                     factor=_float(text, values, "factor"))


def _int(text: str, values: dict[str, str], key: str) -> int | None:
    if key not in values:
        return None
    try:
        return int(values[key])
    except ValueError:
        raise InjectError(f"--inject {text!r}: {key}={values[key]!r} must be an integer") from None


def _float(text: str, values: dict[str, str], key: str) -> float | None:
    if key not in values:
        return None
    try:
        value = float(values[key])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InjectError(f"--inject {text!r}: {key}={values[key]!r} must be a finite number")
    return value


def check_injections(injections: Sequence[Injection], *, ranks: int, steps: int,
                     ckpt_every: int) -> None:
    """InjectError for a spec this run rules out (rank, step, rate or factor out of range)."""
    for inj in injections:
        where = f"--inject {inj.text()!r}"
        if inj.rank is not None and not 0 <= inj.rank < ranks:
            raise InjectError(f"{where}: rank={inj.rank} must be a rank in 0..{ranks - 1} "
                              f"(--ranks {ranks})")
        if inj.step is not None and not 1 <= inj.step <= steps:
            raise InjectError(f"{where}: step={inj.step} must be in 1..{steps} (--steps {steps})")
        if inj.kind in ("corrupt", "disk-full") and inj.step is not None and inj.step % ckpt_every:
            raise InjectError(f"{where}: step={inj.step} must be a checkpoint step (a multiple "
                              f"of --ckpt-every {ckpt_every})")
        rate = inj.rate_per_rank_step
        if rate is not None and not 0 < rate < 1:
            raise InjectError(f"{where}: rate={rate} must be a probability in (0, 1)")
        if inj.factor is not None and not 1 <= inj.factor <= 100:
            raise InjectError(f"{where}: factor={inj.factor} must be in 1..100")
    if sum(i.kind == "random-kill" for i in injections) > 1:
        raise InjectError("--inject random-kill may be given once")


def draw_random_kill(rng: np.random.Generator, *, rate_per_rank_step: float, world: int,
                     first_step: int, last_step: int) -> tuple[int, int] | None:
    """The first ``(rank, step)`` in ``first_step..last_step`` at which some rank dies, or None.

    Each rank fails at each step independently with ``rate_per_rank_step`` (a geometric
    time to failure, the discrete form of the exponential one Daly's model assumes).
    """
    p_any = 1.0 - (1.0 - rate_per_rank_step) ** world
    step = first_step + int(rng.geometric(p_any)) - 1
    if step > last_step:
        return None
    return int(rng.integers(world)), step
