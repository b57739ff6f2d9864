"""The scenario's ``ops:`` section: the model portfolio and its teams, for the operations
part of the plan (docs/operations.md)."""

from __future__ import annotations

from mlfleet.scenario.base import _Spec
from mlfleet.scenario.parsers import Fraction, PositiveInt, ShortText


class OpsSpec(_Spec):
    """The model portfolio the platform runs and the teams that share its cost."""

    models: PositiveInt = 1
    """Models in production (an ensemble's members count one each), e.g. 12."""
    teams: dict[ShortText, Fraction] | None = None
    """Each team's share of the fleet, e.g. {ranking: 0.6, ads: 0.4} (sums to 1)."""
