"""Retention: which committed checkpoints to keep (the last K, plus every M-th step)."""

from __future__ import annotations

from collections.abc import Iterable


def steps_to_keep(steps: Iterable[int], *, keep_last: int | None, keep_every: int) -> set[int]:
    """Steps kept: the ``keep_last`` newest (all when None), plus steps divisible by ``keep_every``.

    ``keep_every`` counts in training steps (0 = none), so whether a step is kept for the
    long term never depends on which other checkpoints exist: a checkpoint kept once is
    kept until the policy changes. The newest step is always kept.
    """
    ordered = sorted(set(steps))
    if keep_last is None:
        return set(ordered)
    kept = set(ordered[-max(keep_last, 1):]) if ordered else set()
    if keep_every > 0:
        kept |= {s for s in ordered if s % keep_every == 0}
    return kept
