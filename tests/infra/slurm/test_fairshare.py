"""Fair-share: the classic 2^(-U/S) and Fair Tree, hand-worked from Slurm's pages."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfleet.infra.scheduling.slurm.fairshare import (
    Assoc,
    classic_factor,
    classic_factors,
    decay_per_s,
    decayed,
    fair_tree,
    level_fs,
)


def test_classic_factor_doc_points() -> None:
    # "Classic Fairshare Algorithm": no usage -> 1.0, usage equal to shares -> 0.5,
    # twice the shares -> 0.25 (exact)
    assert classic_factor(0.0, 0.25) == 1.0
    assert classic_factor(0.25, 0.25) == 0.5
    assert classic_factor(0.5, 0.25) == 0.25
    assert classic_factor(0.1, 0.0) == 0.0


def test_classic_effective_usage_by_hand() -> None:
    # root -> A (3 shares, users a1 with all of A's usage, a2 none), B (1 share, 1/4 usage)
    root = Assoc(name="root", children=(
        Assoc(name="A", shares=3, children=(Assoc(name="a1", usage_raw=300.0),
                                            Assoc(name="a2", usage_raw=0.0))),
        Assoc(name="B", shares=1, children=(Assoc(name="b1", usage_raw=100.0),))))
    got = classic_factors(root)
    # A: UA=0.75, UE = 0.75 + (1 - 0.75) * 3/4 = 0.9375, S=0.75
    # a1: UA=0.75, UE = 0.75 + (0.9375 - 0.75)/2 = 0.84375, S = 0.375 -> 2^-2.25
    # a2: UA=0,    UE = 0.9375/2 = 0.46875,                  S = 0.375 -> 2^-1.25
    # B: UA=0.25, UE = 0.25 + 0.75/4 = 0.4375; b1: UE = 0.4375, S = 0.25 -> 2^-1.75
    assert got["A/a1"] == pytest.approx(2 ** -2.25, abs=1e-12)
    assert got["A/a2"] == pytest.approx(2 ** -1.25, abs=1e-12)
    assert got["B/b1"] == pytest.approx(2 ** -1.75, abs=1e-12)


def test_fair_tree_by_hand() -> None:
    # root level: A (2 shares, half the usage) LF 1, B (1, half) LF 0.5, user r (1, none) inf
    root = Assoc(name="root", children=(
        Assoc(name="r", shares=1, usage_raw=0.0),
        Assoc(name="A", shares=2, children=(Assoc(name="a1", usage_raw=10.0),
                                            Assoc(name="a2", usage_raw=0.0))),
        Assoc(name="B", shares=1, children=(Assoc(name="b1", usage_raw=10.0),))))
    rows = fair_tree(root)
    assert rows["A"].level_fs == pytest.approx(1.0) and rows["B"].level_fs == pytest.approx(0.5)
    assert math.isinf(rows["root/r"].level_fs)
    # ranked r, a2 (inf inside A), a1 (0.5 inside A), b1: 4/4, 3/4, 2/4, 1/4
    assert [rows[k].fairshare for k in ("root/r", "A/a2", "A/a1", "B/b1")] == \
        [1.0, 0.75, 0.5, 0.25]


def test_fair_tree_ties_share_a_rank_and_merge_accounts() -> None:
    root = Assoc(name="root", children=(
        Assoc(name="A", shares=1, children=(Assoc(name="a1", usage_raw=5.0),
                                            Assoc(name="a2", usage_raw=15.0))),
        Assoc(name="B", shares=1, children=(Assoc(name="b1", usage_raw=20.0),))))
    rows = fair_tree(root)
    # A and B tie at LF 1: their users are merged and sorted by their own LF:
    # a1 (0.5/0.25 = 2), b1 (1/1 = 1), a2 (0.5/0.75 = 2/3)
    assert [rows[k].fairshare for k in ("A/a1", "B/b1", "A/a2")] == [1.0, 2 / 3, 1 / 3]
    twins = fair_tree(Assoc(name="root", children=(Assoc(name="u", usage_raw=1.0),
                                                   Assoc(name="v", usage_raw=1.0))))
    assert twins["root/u"].fairshare == twins["root/v"].fairshare == 1.0


def test_level_fs_edges() -> None:
    assert math.isinf(level_fs(1, 0, 2, 0))
    assert level_fs(0, 5, 2, 10) == 0.0


def test_decay_halves_usage_per_half_life() -> None:
    # slurmctld's per-second factor 1 - 0.693/half_life: one half-life gives 0.49997 (1 h)
    assert decayed(100.0, elapsed_s=3600.0, half_life_s=3600.0) == pytest.approx(50.0, rel=1e-3)
    assert decay_per_s(0.0) == 1.0


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=6),
       st.lists(st.integers(1, 10), min_size=6, max_size=6))
def test_fair_tree_factors_are_ranks(usages: list[float], shares: list[int]) -> None:
    users = tuple(Assoc(name=f"u{i}", shares=shares[i], usage_raw=u) for i, u in enumerate(usages))
    rows = fair_tree(Assoc(name="root", children=users))
    values = [r.fairshare for r in rows.values() if r.fairshare is not None]
    n = len(users)
    assert max(values) == 1.0
    assert all(0 < v <= 1 and round(v * n) == pytest.approx(v * n) for v in values)
    # a user with a larger LevelFS never gets a smaller factor
    for a in rows.values():
        for b in rows.values():
            if a.level_fs > b.level_fs:
                assert a.fairshare is not None and b.fairshare is not None
                assert a.fairshare > b.fairshare
