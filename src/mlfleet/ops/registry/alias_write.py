"""Move ensemble aliases in one SQLite transaction: check, write, audit, commit.

The transaction runs through MLflow's own session on MLflow's own tables (the ORM classes
of the pinned ``mlflow-skinny==3.17.2``), so MLflow's readers see the alias exactly as
:class:`~mlflow.MlflowClient` would have written it. For each move it checks that the alias
still points where the caller read it (compare-and-swap), writes the alias row (and the
canary-share tag), and appends the audit row; any exception, including an injected one,
rolls every part back. The audit row is inserted first because Python's ``sqlite3`` begins a
transaction only at the first write: a compare-and-swap read issued before it would run
outside the transaction, and two racing writers could both pass it (the racing-writers test
caught exactly that).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlfleet.ops.registry import audit
from mlfleet.ops.registry.errors import ConcurrentChange
from mlfleet.ops.registry.store import RegistryStore

CANARY_SHARE_TAG = "mlfleet.canary_share"
"""On the ensemble's registered model: ``"SHARE@VERSION"``; it applies only while the canary
alias points at VERSION, so a reader never pairs one canary's share with another's version."""


@dataclass(frozen=True, kw_only=True)
class AliasMove:
    """Move ``alias`` of ``model`` from ``expected`` to ``target`` (None: unset / remove)."""

    ensemble: str
    model: str
    alias: str
    expected: int | None
    target: int | None
    action: str
    share: float | None = None


def apply_moves(store: RegistryStore, moves: Sequence[AliasMove], *, who: str, why: str,
                before_commit: Callable[[], None] | None = None) -> None:
    """All ``moves`` and their audit rows in one transaction, or none of them.

    Raises ConcurrentChange if an alias no longer points at ``expected``;
    ``before_commit`` runs last inside the transaction (tests inject failures there).
    """
    from mlflow.exceptions import MlflowException

    try:
        with store.transaction() as session:
            for move in moves:
                # The INSERT comes first: Python's sqlite3 opens the transaction (and SQLite
                # grants the write lock) only at the first write, so the compare-and-swap read
                # in _move happens inside it, against the latest commit, not before it.
                audit.append(session, audit.AuditRow(
                    seq=0, ensemble=move.ensemble, alias=move.alias, action=move.action,
                    from_version=move.expected, to_version=move.target, share=move.share,
                    who=who, why=why, at_s=time.time()))
                _move(session, move)
            if before_commit is not None:
                before_commit()
    except MlflowException as exc:  # MLflow's session wraps whatever was raised inside it
        cause = exc.__cause__
        if cause is not None and not _is_database_error(cause):
            raise cause from None  # ours (ConcurrentChange) or an injected fault, unwrapped
        raise ConcurrentChange(f"the registry store is busy or changed under us: "
                               f"{str(exc).splitlines()[0]}") from None


def _is_database_error(exc: BaseException) -> bool:
    import sqlalchemy

    return isinstance(exc, sqlalchemy.exc.SQLAlchemyError)


def _move(session: Any, move: AliasMove) -> None:
    from mlflow.store.model_registry.dbmodels.models import SqlRegisteredModelAlias

    row = session.query(SqlRegisteredModelAlias).filter_by(
        name=move.model, alias=move.alias).one_or_none()
    now = None if row is None else int(row.version)
    if now != move.expected:
        raise ConcurrentChange(f"{move.model} alias {move.alias!r} is v{now}, expected "
                               f"v{move.expected}: another writer moved it; nothing written")
    if move.target is None:
        if row is not None:
            session.delete(row)
    elif row is not None:
        row.version = move.target
    else:
        session.add(SqlRegisteredModelAlias(workspace=_workspace(session, move.model),
                                            name=move.model, alias=move.alias,
                                            version=move.target))
    if move.alias == "canary":
        _set_share(session, move)


def _workspace(session: Any, model: str) -> str:
    from mlflow.store.model_registry.dbmodels.models import SqlRegisteredModel

    return str(session.query(SqlRegisteredModel).filter_by(name=model).one().workspace)


def _set_share(session: Any, move: AliasMove) -> None:
    from mlflow.store.model_registry.dbmodels.models import SqlRegisteredModelTag

    tag = session.query(SqlRegisteredModelTag).filter_by(
        name=move.model, key=CANARY_SHARE_TAG).one_or_none()
    value = None if move.target is None else f"{move.share!r}@{move.target}"
    if value is None:
        if tag is not None:
            session.delete(tag)
    elif tag is not None:
        tag.value = value
    else:
        session.add(SqlRegisteredModelTag(workspace=_workspace(session, move.model),
                                          name=move.model, key=CANARY_SHARE_TAG, value=value))
