"""The model portfolio as a dependency forest: standalone models and ensembles.

An ensemble of ``k`` members is the recommendation pipeline of the chapter's outline
(feature providers -> ranker -> post-processing): member 0 post-processes (the head,
depth 0), member 1 ranks and feeds it (depth 1), and the other ``k - 2`` are feature
providers or retrieval models feeding the ranker (depth 2). Each member consumes from
at most one producer chain, so the portfolio is an in-forest: every model has at most
one *consumer* and ``k - 1`` dependency edges per ensemble. Standalone models have
depth 0 and no edges. The shape is an assumption stated here, not measured: real
pipelines are wider DAGs, and a DAG with shared producers couples more, not less.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import positive_int
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Portfolio:
    """Models in production and which model each one feeds."""

    consumer_of: tuple[int | None, ...]
    """For each model, the index of the model that consumes its output (None: a head)."""

    @property
    def models(self) -> int:
        return len(self.consumer_of)

    @property
    def edges(self) -> int:
        """Dependency edges (producer -> consumer pairs)."""
        return sum(c is not None for c in self.consumer_of)

    def depths(self) -> tuple[int, ...]:
        """Edges from each model down to its head (0 for a head)."""
        return tuple(self._depth(i) for i in range(self.models))

    def _depth(self, i: int) -> int:
        depth, node = 0, self.consumer_of[i]
        while node is not None:
            depth, node = depth + 1, self.consumer_of[node]
        return depth


def ensemble_consumers(members: int, offset: int) -> list[int | None]:
    """The consumer of each member of one ensemble whose head has index ``offset``."""
    positive_int("members", members)
    head, ranker = offset, offset + 1
    return [None, *([head] if members > 1 else []), *[ranker] * max(0, members - 2)]


def portfolio(*, models: int, ensembles: int = 0, members: int = 1) -> Portfolio:
    """``models`` in production, ``ensembles`` of them grouped ``members`` each.

    Raises :class:`~mlfleet.errors.InputError` when the ensembles need more models than
    the portfolio holds."""
    positive_int("models", models)
    positive_int("ensembles", ensembles, minimum=0)
    positive_int("members", members)
    if ensembles * members > models:
        raise InputError(f"ensembles x members(={ensembles} x {members}) must be at most "
                         f"models ({models}): an ensemble's members count one model each")
    consumer_of: list[int | None] = []
    for _ in range(ensembles):
        consumer_of += ensemble_consumers(members, len(consumer_of))
    consumer_of += [None] * (models - len(consumer_of))
    return Portfolio(consumer_of=tuple(consumer_of))
