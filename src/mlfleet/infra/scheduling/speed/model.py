"""The interface every job-speed model offers the engine."""

from __future__ import annotations

from typing import Protocol


class JobSpeed(Protocol):
    """A job's progress under a placement, given as GPUs per node (``(4, 2)``: 6 GPUs
    on 2 nodes). The engine applies restart delays itself; a model only trains."""

    @property
    def fraction_done(self) -> float:
        """Fraction of the job's work done, in [0, 1]."""
        ...

    def place(self, counts: tuple[int, ...]) -> None:
        """Run on ``counts`` from now (``()``: hold nothing)."""
        ...

    def advance(self, seconds: float) -> float | None:
        """Train ``seconds`` on the current placement; the seconds it took to finish if
        it finished within them, else None."""
        ...

    def rate(self, counts: tuple[int, ...]) -> float:
        """Fraction of the whole job per second that ``counts`` would give now."""
        ...

    def remaining_s(self, counts: tuple[int, ...]) -> float:
        """Oracle seconds left on ``counts`` (inf on ``()``)."""
        ...

    def time_to_finish_s(self) -> float:
        """Seconds until it finishes on the current placement (inf if it holds nothing)."""
        ...

    def isolated_s(self) -> float:
        """Run time from scratch alone at its requested GPUs, packed, no restart delay."""
        ...


def packed_counts(gpus: int, gpus_per_node: int) -> tuple[int, ...]:
    """GPUs per node of ``gpus`` packed on the fewest nodes: ``(4, 4, 2)`` for 10 on 4s."""
    full, rest = divmod(gpus, gpus_per_node)
    return (gpus_per_node,) * full + ((rest,) if rest else ())
