"""The fault schedule of a chaos run: which replica gets what, and when.

A ``--fault`` option is one episode on one replica, a comma-separated list of
``ACTION@TIME`` steps, optionally prefixed by the replica's index (``1:stop@20s,cont@25s``;
replica 0 by default). Actions:

=========  ==================================================================
``kill``     SIGKILL the replica (a crash: its connections are reset)
``drain``    SIGTERM it: a planned stop; it drains (readiness 503, serves on, exits 0)
``restart``  start a killed or drained replica again (it must pass readiness checks)
``stop``     SIGSTOP it: a gray failure, it still accepts connections but never answers
``cont``     SIGCONT it: the stopped replica resumes
``slow``     start a CPU hog on the replica's CPUs: it answers, slowly
``fast``     end the hog
=========  ==================================================================

Each undoing action needs its doing action earlier on the same replica (``restart``
after ``kill`` or ``drain``, ``cont`` after ``stop``, ``fast`` after ``slow``); every time lies in
``[0, duration)``. A fault left open at the end is undone by the run's clean-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlfleet.checks import one_of
from mlfleet.errors import InputError
from mlfleet.units import duration_option

ACTIONS = ("kill", "drain", "restart", "stop", "cont", "slow", "fast")
UNDOES = {"restart": ("kill", "drain"), "cont": ("stop",), "fast": ("slow",)}
"""The actions one of which each undoing action needs before it on the same replica."""


class FaultError(InputError):
    """A ``--fault`` that cannot be scheduled (exit 2)."""


@dataclass(frozen=True, kw_only=True)
class FaultStep:
    """One action on one replica at one time of the run."""

    replica: int
    """Index of the replica (0-based)."""
    action: str
    """One of :data:`ACTIONS`."""
    at_s: float
    """Seconds from the start of the load."""


def parse_episode(text: str, *, replicas: int, duration_s: float) -> list[FaultStep]:
    """``"1:kill@5s,restart@12s"`` -> its steps, checked against the fleet and the run.

    Raises:
        FaultError: an unknown action, a replica out of range, a time outside
            ``[0, duration_s)``, steps out of order, or an undo without its fault.
    """
    head, sep, body = text.partition(":")
    replica = _replica(head, text, replicas) if sep else 0
    steps = [_step(part, replica, duration_s) for part in (body if sep else head).split(",")]
    _check_order(steps, text)
    return steps


def _replica(head: str, text: str, replicas: int) -> int:
    if not head.strip().isdigit() or int(head) >= replicas:
        raise FaultError(f"--fault(={text!r}) names replica {head!r}; "
                         f"allowed: 0..{replicas - 1}")
    return int(head)


def _step(part: str, replica: int, duration_s: float) -> FaultStep:
    action, sep, when = part.strip().partition("@")
    if not sep:
        raise FaultError(f"--fault step(={part!r}) must be ACTION@TIME, e.g. kill@5s")
    one_of("--fault action", action, ACTIONS, error=FaultError)
    at_s = duration_option(f"--fault {action}", when, allow_zero=True)
    if at_s >= duration_s:
        raise FaultError(f"--fault {action}@{when} is at {at_s:g} s, beyond the run: "
                         f"allowed: times before --duration (={duration_s:g} s)")
    return FaultStep(replica=replica, action=action, at_s=at_s)


def _check_order(steps: Sequence[FaultStep], text: str) -> None:
    done: set[str] = set()
    for prev, step in zip([None, *steps], steps, strict=False):
        if prev is not None and step.at_s < prev.at_s:
            raise FaultError(f"--fault(={text!r}): {step.action}@{step.at_s:g}s comes before "
                             f"{prev.action}@{prev.at_s:g}s; allowed: times in order")
        needs = UNDOES.get(step.action, ())
        if needs and done.isdisjoint(needs):
            raise FaultError(f"--fault(={text!r}): {step.action} needs an earlier "
                             f"{' or '.join(needs)}")
        done.add(step.action)
        done.difference_update(needs)


def episodes(texts: Sequence[str], *, replicas: int,
             duration_s: float) -> list[list[FaultStep]]:
    """Each ``--fault``'s steps, episodes ordered by their first step's time."""
    parsed = [parse_episode(t, replicas=replicas, duration_s=duration_s) for t in texts]
    return sorted(parsed, key=lambda steps: (steps[0].at_s, steps[0].replica))


def schedule(texts: Sequence[str], *, replicas: int, duration_s: float) -> list[FaultStep]:
    """Every episode's steps in one list, sorted by time (then replica)."""
    steps = [s for ep in episodes(texts, replicas=replicas, duration_s=duration_s) for s in ep]
    return sorted(steps, key=lambda s: (s.at_s, s.replica))
