"""Team structures for ML (centralized, embedded, hybrid) by their coordination paths.

Illustrative, not predictive. Brooks (*The Mythical Man-Month*, 1975, ch. 2): when every
member must coordinate with every other, a group of ``n`` has ``n (n - 1) / 2``
communication paths. Take ``product_teams`` product teams with ``engineers_per_team`` ML
engineers' worth of work each, and a platform team of ``platform_engineers``:

- *centralized*: one ML team of all ``T x e`` engineers, plus one interface per product team;
- *embedded*: ``e`` engineers inside each product team, no shared platform: each team builds
  its own infrastructure (``T`` copies) and the teams coordinate pairwise on standards
  (``T (T - 1) / 2`` team-to-team paths);
- *hybrid*: ``e`` embedded per team plus the platform team, and one interface from each
  product team to the platform.

Paths count coordination cost; copies of the platform count duplicated work. Neither
measures product speed, which embedding buys.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet.checks import positive_int


def paths(n: int) -> int:
    """Brooks's communication paths among ``n`` people: n (n - 1) / 2."""
    positive_int("n", n, minimum=0)
    return n * (n - 1) // 2


@dataclass(frozen=True, kw_only=True)
class Structure:
    """One way to organise the same ML engineers."""

    name: str
    engineers: int
    """ML engineers, platform team included."""
    communication_paths: int
    platform_copies: int
    """How many teams build and run their own ML infrastructure."""


def structures(*, product_teams: int, engineers_per_team: int,
               platform_engineers: int) -> list[Structure]:
    """Centralized, embedded and hybrid for the same portfolio of product teams."""
    t = positive_int("product_teams", product_teams)
    e = positive_int("engineers_per_team", engineers_per_team)
    p = positive_int("platform_engineers", platform_engineers)
    return [
        Structure(name="centralized", engineers=t * e, communication_paths=paths(t * e) + t,
                  platform_copies=1),
        Structure(name="embedded", engineers=t * e,
                  communication_paths=t * paths(e) + paths(t), platform_copies=t),
        Structure(name="hybrid", engineers=t * e + p,
                  communication_paths=t * paths(e) + paths(p) + t, platform_copies=1),
    ]
