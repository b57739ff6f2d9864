"""Team structures: Brooks's paths against counting the pairs of a built org chart."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from mlfleet.ops.org.teams import paths, structures


def _org_pairs(groups: list[list[str]], interfaces: list[tuple[str, str]]) -> int:
    """Pairs who coordinate: everyone within a group, plus the named interfaces."""
    within = {frozenset(pair) for g in groups for pair in itertools.combinations(g, 2)}
    return len(within) + len(set(interfaces))


@given(n=st.integers(0, 200))
def test_paths_count_the_pairs(n: int) -> None:
    assert paths(n) == len(list(itertools.combinations(range(n), 2)))


@given(t=st.integers(1, 12), e=st.integers(1, 8), p=st.integers(1, 10))
def test_structures_count_the_pairs_of_their_org_chart(t: int, e: int, p: int) -> None:
    got = {s.name: s for s in structures(product_teams=t, engineers_per_team=e,
                                         platform_engineers=p)}
    central = [[f"ml{i}" for i in range(t * e)]]
    assert got["centralized"].communication_paths == _org_pairs(
        central, [("ml-team", f"product{j}") for j in range(t)])
    embedded = [[f"t{j}e{i}" for i in range(e)] for j in range(t)]
    assert got["embedded"].communication_paths == _org_pairs(
        embedded, [(f"team{a}", f"team{b}") for a, b in itertools.combinations(range(t), 2)])
    hybrid = [*embedded, [f"p{i}" for i in range(p)]]
    assert got["hybrid"].communication_paths == _org_pairs(
        hybrid, [(f"team{j}", "platform") for j in range(t)])
    assert got["embedded"].platform_copies == t and got["hybrid"].platform_copies == 1
