"""Slurm's fair-share factor: decayed usage, the classic 2^(-U/S) and Fair Tree.

Sources (Slurm 22.05 documentation):

* "Multifactor Priority Plugin" (priority_multifactor.html): usage is charged in
  TRES-seconds (CPU-seconds by default) every PriorityCalcPeriod and decays with
  PriorityDecayHalfLife; slurmctld applies a per-second factor ``1 - 0.693 / half_life_s``
  (priority_multifactor.c), so ``t`` seconds multiply usage by that factor to the ``t``.
* "Classic Fairshare Algorithm" (classic_fair_share.html): normalised shares
  ``S = prod(S_self / S_siblings)`` down the tree, effective usage
  ``UE = UA + (UE_parent - UA) * S_self / S_siblings`` and ``F = 2^(-UE / S)``.
* "Fair Tree Fairshare Algorithm" (fair_tree.html): at every level ``LevelFS = S / U``
  with ``S`` the shares and ``U`` the raw usage each over the sum of the siblings'
  (itself included); no usage gives infinity. Siblings are sorted by LevelFS,
  descending, and the tree is walked depth first; users are ranked in that order and
  ``FairShare = rank / number_of_users`` (the first gets 1). Tied users share a rank;
  the children of tied accounts are merged and sorted together.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

DECAY_CONSTANT = 0.693
"""The ln 2 slurmctld uses (priority_multifactor.c writes the literal 0.693)."""


@dataclass(frozen=True, kw_only=True)
class Assoc:
    """An association: an account (with children) or a user of an account (a leaf)."""

    name: str
    shares: int = 1
    """RawShares (``sacctmgr ... fairshare=N``)."""
    usage_raw: float = 0.0
    """Decayed usage in CPU-seconds; for an account, the sum over its subtree is used."""
    children: tuple[Assoc, ...] = field(default=())

    @property
    def is_user(self) -> bool:
        """A leaf is a user association."""
        return not self.children

    @property
    def total_usage(self) -> float:
        """Usage of the association and everything under it."""
        return self.usage_raw if self.is_user else sum(c.total_usage for c in self.children)


def decay_per_s(half_life_s: float) -> float:
    """The per-second decay factor slurmctld applies (1: no decay for half_life_s <= 0)."""
    return 1.0 - DECAY_CONSTANT / half_life_s if half_life_s > 0 else 1.0


def decayed(usage: float, *, elapsed_s: float, half_life_s: float) -> float:
    """``usage`` after ``elapsed_s`` seconds of decay."""
    return usage * float(decay_per_s(half_life_s) ** elapsed_s)


def classic_factor(effective_usage: float, norm_shares: float) -> float:
    """F = 2^(-UE / S); 0 for an association without shares."""
    return 2.0 ** (-effective_usage / norm_shares) if norm_shares > 0 else 0.0


def classic_factors(root: Assoc) -> dict[str, float]:
    """The classic fair-share factor of every user, keyed ``account/user``."""
    total = root.total_usage
    out: dict[str, float] = {}

    def visit(node: Assoc, norm_shares: float, ue_parent: float, path: str) -> None:
        siblings = sum(c.shares for c in node.children)
        for child in node.children:
            part = child.shares / siblings if siblings else 0.0
            ua = child.total_usage / total if total > 0 else 0.0
            ue = ua + (ue_parent - ua) * part
            s = norm_shares * part
            if child.is_user:
                out[f"{path}/{child.name}"] = classic_factor(ue, s)
            else:
                visit(child, s, ue, child.name)

    visit(root, 1.0, 1.0 if total > 0 else 0.0, root.name)
    return out


def level_fs(shares: float, usage: float, sibling_shares: float, sibling_usage: float) -> float:
    """Fair Tree's LevelFS = S / U at one level (inf without usage, 0 without shares)."""
    s = shares / sibling_shares if sibling_shares > 0 else 0.0
    if s == 0.0:
        return 0.0
    u = usage / sibling_usage if sibling_usage > 0 else 0.0
    return math.inf if u == 0.0 else s / u


@dataclass(frozen=True, kw_only=True)
class FairTreeRow:
    """One association's Fair Tree result (``sshare -l`` columns LevelFS and FairShare)."""

    path: str
    """``account`` or ``account/user``."""
    level_fs: float
    fairshare: float | None
    """Users only; None for accounts."""


def fair_tree(root: Assoc) -> dict[str, FairTreeRow]:
    """Fair Tree's LevelFS of every association and FairShare of every user."""
    users = sum(1 for _ in _users(root))
    rows: dict[str, FairTreeRow] = {}
    rank = [users]

    def visit(group: Sequence[tuple[str, Assoc, float]]) -> None:
        ordered = sorted(group, key=lambda item: -item[2])
        i = 0
        while i < len(ordered):
            j = i
            while j < len(ordered) and ordered[j][2] == ordered[i][2]:
                j += 1
            tied = ordered[i:j]
            tie_rank = rank[0]
            merged: list[tuple[str, Assoc, float]] = []
            for parent, node, lfs in tied:
                path = f"{parent}/{node.name}" if node.is_user else node.name
                if node.is_user:
                    rows[path] = FairTreeRow(path=path, level_fs=lfs, fairshare=tie_rank / users)
                    rank[0] -= 1
                else:
                    rows[path] = FairTreeRow(path=path, level_fs=lfs, fairshare=None)
                    merged.extend(_children_with_lfs(node))
            if merged:
                visit(merged)
            i = j

    visit(_children_with_lfs(root))
    return rows


def _children_with_lfs(node: Assoc) -> list[tuple[str, Assoc, float]]:
    shares = sum(c.shares for c in node.children)
    usage = sum(c.total_usage for c in node.children)
    return [(node.name, c, level_fs(c.shares, c.total_usage, shares, usage))
            for c in node.children]


def _users(node: Assoc) -> Iterator[Assoc]:
    for child in node.children:
        if child.is_user:
            yield child
        else:
            yield from _users(child)
