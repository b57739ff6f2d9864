"""Audit history: which ensemble version held which alias, when, set by whom and why.

MLflow keeps no history of which version held an alias (mlflow/mlflow#2169, open since 2019,
asks for one), so mlfleet keeps its own table, ``mlfleet_alias_audit``, in the same SQLite
file. Every alias move appends its row *in the same SQLite transaction* as the alias write
itself (:mod:`alias_write`), after a compare-and-swap check on the alias row: the history and
the alias commit together or not at all, so they cannot disagree and there is no crash window
between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlfleet.ops.registry.store import RegistryStore

TABLE = "mlfleet_alias_audit"
_CREATE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ensemble TEXT NOT NULL, alias TEXT NOT NULL, action TEXT NOT NULL,
    from_version INTEGER, to_version INTEGER, share REAL,
    who TEXT NOT NULL, why TEXT NOT NULL, at_s REAL NOT NULL)"""
ACTIONS = ("promote", "rollback", "canary", "migrate")


@dataclass(frozen=True, kw_only=True)
class AuditRow:
    """One alias move: ``to_version`` None means the alias was removed."""

    seq: int
    ensemble: str
    alias: str
    action: str
    from_version: int | None
    to_version: int | None
    share: float | None
    who: str
    why: str
    at_s: float
    """Unix time of the commit, seconds."""


@dataclass(frozen=True, kw_only=True)
class LivePeriod:
    """One version's time on an alias: from ``from_s`` until ``to_s`` (None: still live)."""

    version: int
    from_s: float
    to_s: float | None
    action: str
    who: str
    why: str


def append(session: Any, row: AuditRow) -> None:
    """Append ``row`` (its ``seq`` is ignored) inside the caller's transaction."""
    import sqlalchemy as sa

    session.execute(sa.text(_CREATE))
    session.execute(sa.text(
        f"INSERT INTO {TABLE} (ensemble, alias, action, from_version, to_version, share, who, "
        "why, at_s) VALUES (:ensemble, :alias, :action, :from_version, :to_version, :share, "
        ":who, :why, :at_s)"),
        {k: getattr(row, k) for k in ("ensemble", "alias", "action", "from_version",
                                      "to_version", "share", "who", "why", "at_s")})


def rows(store: RegistryStore, ensemble: str) -> list[AuditRow]:
    """Every row of one ensemble, oldest first (none if nothing was ever promoted)."""
    import sqlalchemy as sa

    with store.engine.connect() as con:
        exists = con.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = :t"),
                             {"t": TABLE}).first()
        if not exists:
            return []
        found = con.execute(sa.text(f"SELECT * FROM {TABLE} WHERE ensemble = :e ORDER BY seq"),
                            {"e": ensemble}).mappings().all()
    return [AuditRow(**dict(r)) for r in found]


def live_periods(history: list[AuditRow], alias: str = "production") -> list[LivePeriod]:
    """The versions that held ``alias``, with from/to times, oldest first."""
    moves = [r for r in history if r.alias == alias]
    periods = []
    for row, nxt in zip(moves, [*moves[1:], None], strict=True):
        if row.to_version is not None:
            periods.append(LivePeriod(version=row.to_version, from_s=row.at_s,
                                      to_s=nxt.at_s if nxt else None, action=row.action,
                                      who=row.who, why=row.why))
    return periods


def rollback_target(history: list[AuditRow]) -> int | None:
    """The production version before the current one was promoted, by replaying the moves as
    a stack (a promotion pushes, a rollback pops); None if there is none."""
    stack: list[int] = []
    for row in history:
        if row.alias != "production" or row.to_version is None:
            continue
        if row.action == "rollback":
            stack.pop()
            assert stack and stack[-1] == row.to_version, "audit replay disagrees with itself"
        else:
            stack.append(row.to_version)
    return stack[-2] if len(stack) >= 2 else None
