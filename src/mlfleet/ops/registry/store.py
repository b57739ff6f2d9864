"""The registry store: a thin typed wrapper over ``mlflow.MlflowClient`` on one SQLite file.

The file is ``--store PATH``, else ``$MLFLEET_REGISTRY``, else ``./mlfleet-registry.db``. A new
store is built beside its final path and renamed into place, so a failed or interrupted
creation leaves no file behind; it is created in WAL mode, so readers never wait for the
writer (MLflow itself sets a 20 s busy timeout on every session). MLflow is imported only
here and only when a store opens (the ``ops`` extra).

Raises :class:`RegistryInputError` for a path that is not a registry, an unknown model or
version; MLflow's own exceptions never leave this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlfleet.ops.registry.card import ModelCard, card_from_tags, card_tags, model_name
from mlfleet.ops.registry.errors import RegistryInputError

if TYPE_CHECKING:
    from mlflow import MlflowClient

DEFAULT_STORE = "mlfleet-registry.db"
STORE_ENV = "MLFLEET_REGISTRY"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_empty_store: list[bytes] = []
"""The bytes of a freshly migrated empty registry, once this process has built one: MLflow's
migrations take seconds, a copy of their result takes a millisecond."""


def store_path(option: str | os.PathLike[str] | None) -> Path:
    """The store file a command uses: the option, else ``$MLFLEET_REGISTRY``, else the default."""
    chosen = option if option not in (None, "") else os.environ.get(STORE_ENV) or DEFAULT_STORE
    return Path(chosen)


def _import_mlflow() -> type[MlflowClient]:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient  # the CLI turns a missing extra into one line

    for name in ("mlflow", "alembic"):  # keep the CLI's stderr to our own lines
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow logs a traceback for a database error before raising it; we raise it as one line
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    return MlflowClient


def _check_existing(path: Path) -> None:
    if path.is_dir():
        raise RegistryInputError(f"store(={str(path)!r}) is a directory; expected a SQLite file")
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise RegistryInputError(f"store(={str(path)!r}) cannot be read: {exc.strerror}") from None
    if head != _SQLITE_MAGIC:
        raise RegistryInputError(f"store(={str(path)!r}) is not a SQLite file")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
            names = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        raise RegistryInputError(f"store(={str(path)!r}) cannot be read as SQLite: "
                                 f"{exc}") from None
    if "registered_models" not in names:
        raise RegistryInputError(f"store(={str(path)!r}) is a SQLite file but not an MLflow "
                                 "registry")


def _create(path: Path) -> None:
    """Build an empty MLflow registry beside ``path`` in WAL mode, then rename it into place."""
    if not path.parent.is_dir():
        raise RegistryInputError(f"store(={str(path)!r}): directory {str(path.parent)!r} "
                                 "does not exist")
    client_type = _import_mlflow()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise RegistryInputError(f"store(={str(path)!r}) cannot be created: "
                                 f"{exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if _empty_store:
            tmp.write_bytes(_empty_store[0])
        else:
            with contextlib.closing(sqlite3.connect(tmp)) as con:
                con.execute("PRAGMA journal_mode=WAL")
            _dispose(client_type(tracking_uri=_uri(tmp), registry_uri=_uri(tmp)))
            _empty_store.append(tmp.read_bytes())
        tmp.chmod(0o666 & ~_umask())  # mkstemp made it private; a store is shared like any file
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _uri(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def _sql_store(client: MlflowClient) -> Any:
    """MLflow's SqlAlchemyStore under ``client`` (its engine and session maker)."""
    return client._get_registry_client().store  # type: ignore[no-untyped-call]


def _dispose(client: MlflowClient) -> None:
    """Close every pooled connection of both MLflow stores (the engines stay cached)."""
    _sql_store(client).engine.dispose()
    client._tracking_client.store.engine.dispose()


class RegistryStore:
    """One open registry: model versions with their cards, aliases, tags and our tables."""

    def __init__(self, path: Path, *, create: bool) -> None:
        """Open ``path``; with ``create`` a missing file becomes a new empty registry."""
        self.path = path
        if path.exists():
            _check_existing(path)
        elif create:
            _create(path)
        else:
            raise RegistryInputError(f"store(={str(path)!r}) does not exist; create it with "
                                     "`mlfleet ops registry register` or `demo --store`")
        client_type = _import_mlflow()
        self.client = client_type(tracking_uri=_uri(path), registry_uri=_uri(path))

    def close(self) -> None:
        """Release the database connections (the file stays)."""
        _dispose(self.client)

    def __enter__(self) -> RegistryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """One SQLite write transaction through MLflow's own session (commit or roll back)."""
        with _sql_store(self.client).ManagedSessionMaker(read_only=False) as session:
            yield session

    @property
    def engine(self) -> Any:
        """The SQLAlchemy engine MLflow opened on the file."""
        return _sql_store(self.client).engine

    def ensure_model(self, name: str) -> None:
        """Create the registered model ``name`` unless it exists."""
        if not self.model_exists(name):
            self.client.create_registered_model(name)

    def model_exists(self, name: str) -> bool:
        """Whether a registered model ``name`` exists (a malformed name raises)."""
        model_name("model", name)
        return bool(self.client.search_registered_models(filter_string=_name_filter(name)))

    def register(self, card: ModelCard) -> ModelCard:
        """Register a new version of ``card.name`` (its version number is MLflow's)."""
        self.ensure_model(card.name)
        version = self.client.create_model_version(card.name, source=card.source_uri,
                                                   tags=card_tags(card))
        return self.card(card.name, int(version.version))

    def card(self, name: str, version: int) -> ModelCard:
        """The card of ``name`` version ``version``; unknown ones raise RegistryInputError."""
        mv = self._version(name, version)
        return card_from_tags(name=name, version=version, source_uri=mv.source, tags=mv.tags)

    def version_tags(self, name: str, version: int) -> dict[str, str]:
        """All tags of one version."""
        return dict(self._version(name, version).tags)

    def versions(self, name: str) -> list[int]:
        """Every version number of ``name``, ascending."""
        model_name("model", name)
        found = self.client.search_model_versions(filter_string=_name_filter(name))
        return sorted(int(mv.version) for mv in found)

    def set_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set one tag on one version."""
        self._version(name, version)
        self.client.set_model_version_tag(name, str(version), key, value)

    def registered(self, name: str) -> tuple[dict[str, int], dict[str, str]] | None:
        """(alias -> version, tags) of a registered model in one MLflow read; None if unknown."""
        from mlflow.exceptions import MlflowException

        model_name("model", name)
        try:
            model = self.client.get_registered_model(name)
        except MlflowException:
            return None
        return {a: int(v) for a, v in model.aliases.items()}, dict(model.tags)

    def aliases(self, name: str) -> dict[str, int]:
        """Alias -> version of a registered model (empty if it does not exist)."""
        found = self.registered(name)
        return found[0] if found else {}

    def model_tags(self, name: str) -> dict[str, str]:
        """Tags of a registered model (empty if it does not exist)."""
        found = self.registered(name)
        return found[1] if found else {}

    def model_names(self) -> list[str]:
        """Every registered model, sorted."""
        return sorted(m.name for m in self.client.search_registered_models(max_results=1000))

    def by_alias(self, name: str, alias: str) -> tuple[int, dict[str, str]] | None:
        """(version, tags) the alias points to, in one MLflow read; None if unset."""
        from mlflow.exceptions import MlflowException

        try:
            mv = self.client.get_model_version_by_alias(name, alias)
        except MlflowException:
            return None
        return int(mv.version), dict(mv.tags)

    def _version(self, name: str, version: int) -> Any:
        from mlflow.exceptions import MlflowException

        model_name("model", name)
        try:
            return self.client.get_model_version(name, str(version))
        except MlflowException:
            known = self.versions(name) if self.model_exists(name) else []
            shown = ", ".join(f"v{v}" for v in known) or "none (no such model)"
            raise RegistryInputError(f"model version {name}@v{version} is unknown; "
                                     f"known versions: {shown}") from None


def _name_filter(name: str) -> str:
    return f"name = '{name}'"  # names are checked by model_name: no quotes in them


def open_store(option: str | os.PathLike[str] | None, *, create: bool = False) -> RegistryStore:
    """Open the store a command names (see :func:`store_path`)."""
    return RegistryStore(store_path(option), create=create)
