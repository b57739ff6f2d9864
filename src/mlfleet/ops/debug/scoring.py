"""Precision and recall of a detector against planted faults with a known answer."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Score:
    """Counts of true positives, false positives and false negatives, summed over trials."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1 when nothing was flagged."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1 when nothing was planted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn)


def score(found: Iterable[Hashable], planted: Iterable[Hashable]) -> Score:
    """The :class:`Score` of one trial: ``found`` against ``planted`` (sets of keys)."""
    got, truth = set(found), set(planted)
    return Score(tp=len(got & truth), fp=len(got - truth), fn=len(truth - got))
