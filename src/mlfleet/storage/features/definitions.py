"""Feature repository definitions: entities, feature views, on-demand views, online config.

A repository is a directory; every ``*.yaml``/``*.yml`` file at its top level holds some of
these sections (a name may be defined once across all files)::

    entities:        [{name, join_key}]
    feature_views:   [{name, entities, source, timestamp_field, created_timestamp_field?,
                       ttl?, features: [{name, dtype}]}]
    on_demand_views: [{name, sources, features: [{name, dtype, expression}]}]
    online:          {backend, path, url, stale_policy, defaults}

:func:`load_repo` validates everything and returns a frozen :class:`FeatureRepo`;
:func:`parse_feature_refs` turns ``"view:feature"`` strings into :class:`FeatureRef`.
Every problem raises :class:`FeatureRepoError` naming the file and the bad value.
The model follows Feast's (entities, feature views with TTL, on-demand views), without
Python definitions: YAML only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlfleet.errors import InputError, UnitError
from mlfleet.units import parse_quantity


class FeatureRepoError(InputError):
    """A feature repository that does not validate, or a reference to an unknown feature."""


DTYPES: tuple[str, ...] = ("bool", "int32", "int64", "float32", "float64", "string")
"""Feature value types a repository may declare."""

BACKENDS: tuple[str, ...] = ("sqlite", "redis")
STALE_POLICIES: tuple[str, ...] = ("flag", "default")
FeatureValue = bool | int | float | str
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, kw_only=True)
class Entity:
    """A thing features describe (a user, an item), keyed by one column."""

    name: str
    join_key: str
    """Column holding the entity's id, in the entity table and in every source."""


@dataclass(frozen=True, kw_only=True)
class Feature:
    """One feature column; ``expression`` is set only in on-demand views."""

    name: str
    dtype: str
    """One of :data:`DTYPES`."""
    expression: str | None = None
    """A SQL (DuckDB) expression over the source views' features, for on-demand features."""


@dataclass(frozen=True, kw_only=True)
class FeatureView:
    """Features of some entities, read from a Parquet source with event timestamps."""

    name: str
    entities: tuple[str, ...]
    join_keys: tuple[str, ...]
    """The entities' join keys, in the order of ``entities``."""
    source: str
    """The source as written in the YAML (relative to the repository)."""
    source_path: Path
    """Absolute path of the Parquet file, directory or glob."""
    timestamp_field: str
    created_timestamp_field: str | None
    """Ties on event time are broken by the later value of this column, when set."""
    ttl_s: float | None
    """A value older than this (relative to the entity row's time) reads as null; None: no expiry."""
    features: tuple[Feature, ...]

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; :class:`FeatureRepoError` listing known ones."""
        return _feature_of(self.name, self.features, name)


@dataclass(frozen=True, kw_only=True)
class OnDemandView:
    """Features computed after retrieval from features of ``sources`` (feature views)."""

    name: str
    sources: tuple[str, ...]
    features: tuple[Feature, ...]

    def feature(self, name: str) -> Feature:
        """The feature called ``name``; :class:`FeatureRepoError` listing known ones."""
        return _feature_of(self.name, self.features, name)


def _feature_of(view: str, features: tuple[Feature, ...], name: str) -> Feature:
    """The feature ``name`` of ``view`` (a feature or on-demand view); FeatureRepoError
    listing the known ones."""
    for feat in features:
        if feat.name == name:
            return feat
    known = ", ".join(f.name for f in features)
    raise FeatureRepoError(f"feature {view}:{name} does not exist; known in {view}: {known}")


@dataclass(frozen=True, kw_only=True)
class OnlineConfig:
    """Where and how online features are served."""

    backend: str = "sqlite"
    """One of :data:`BACKENDS`."""
    path: Path | None = None
    """Absolute path of the SQLite file (backend sqlite)."""
    url: str = "redis://127.0.0.1:6379/0"
    """Redis URL (backend redis)."""
    stale_policy: str = "flag"
    """``flag``: serve a stale value with a stale flag; ``default``: serve the default."""
    defaults: Mapping[str, FeatureValue] = field(default_factory=dict)
    """``"view:feature"`` -> value served when missing (or stale, with policy ``default``)."""


@dataclass(frozen=True, kw_only=True)
class FeatureRef:
    """A requested feature, ``view:feature``."""

    view: str
    feature: str
    on_demand: bool
    """True when ``view`` is an on-demand view."""

    @property
    def ref(self) -> str:
        """The reference as written, ``view:feature``."""
        return f"{self.view}:{self.feature}"


@dataclass(frozen=True, kw_only=True)
class FeatureRepo:
    """A validated feature repository."""

    root: Path
    """Absolute path of the repository directory."""
    files: tuple[Path, ...]
    """The YAML files read, sorted."""
    entities: Mapping[str, Entity]
    views: Mapping[str, FeatureView]
    on_demand: Mapping[str, OnDemandView]
    online: OnlineConfig


def _ident(where: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise FeatureRepoError(f"{where}: {key}(={value!r}) must be a name of letters, digits "
                               "and _ not starting with a digit")
    return value


def _mapping(where: str, value: object, *, allowed: Sequence[str],
             required: Sequence[str] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FeatureRepoError(f"{where}: expected a mapping, got {value!r}")
    unknown = sorted(set(map(str, value)) - set(allowed))
    if unknown:
        raise FeatureRepoError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise FeatureRepoError(f"{where}: missing key {key!r}")
    return value


def _list(where: str, key: str, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise FeatureRepoError(f"{where}: {key}(={value!r}) must be a list")
    return value


def _ttl_s(where: str, value: object) -> float | None:
    if value is None:
        return None
    try:
        ttl_s = parse_quantity(value, "s")  # type: ignore[arg-type]
    except UnitError as exc:
        raise FeatureRepoError(f"{where}: ttl(={value!r}) is not a duration ({exc})") from None
    if ttl_s < 0:
        raise FeatureRepoError(f"{where}: ttl(={value!r}) must be >= 0 (0 or absent: no expiry)")
    return ttl_s or None


def _feature(where: str, raw: object, *, on_demand: bool) -> Feature:
    keys = ("name", "dtype", "expression") if on_demand else ("name", "dtype")
    spec = _mapping(where, raw, allowed=keys, required=keys)
    name = _ident(where, "name", spec["name"])
    dtype = spec["dtype"]
    if dtype not in DTYPES:
        raise FeatureRepoError(f"{where}: feature {name}: dtype(={dtype!r}) is unknown; "
                               f"known: {', '.join(DTYPES)}")
    expression = spec.get("expression")
    if on_demand and (not isinstance(expression, str) or not expression.strip()
                      or ";" in expression):
        raise FeatureRepoError(f"{where}: feature {name}: expression(={expression!r}) must be "
                               "one SQL expression")
    return Feature(name=name, dtype=dtype, expression=expression)


def _features(where: str, raw: object, *, on_demand: bool) -> tuple[Feature, ...]:
    feats = tuple(_feature(where, f, on_demand=on_demand) for f in _list(where, "features", raw))
    if not feats:
        raise FeatureRepoError(f"{where}: features must not be empty")
    _unique(where, "feature", (f.name for f in feats))
    return feats


def _unique(where: str, kind: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FeatureRepoError(f"{where}: {kind} {name!r} is defined twice")
        seen.add(name)


def _entity(file: Path, raw: object) -> Entity:
    where = f"{file.name}: entity {raw.get('name', '?') if isinstance(raw, dict) else '?'}"
    spec = _mapping(where, raw, allowed=("name", "join_key", "description"),
                    required=("name", "join_key"))
    return Entity(name=_ident(where, "name", spec["name"]),
                  join_key=_ident(where, "join_key", spec["join_key"]))


_VIEW_KEYS = ("name", "entities", "source", "timestamp_field", "created_timestamp_field",
              "ttl", "features", "description")


def _view(file: Path, raw: object, root: Path, entities: Mapping[str, Entity]) -> FeatureView:
    where = f"{file.name}: feature view {raw.get('name', '?') if isinstance(raw, dict) else '?'}"
    spec = _mapping(where, raw, allowed=_VIEW_KEYS,
                    required=("name", "entities", "source", "timestamp_field", "features"))
    names = tuple(_list(where, "entities", spec["entities"]))
    for ent in names:
        if ent not in entities:
            raise FeatureRepoError(f"{where}: entity {ent!r} is not defined; known: "
                                   f"{', '.join(entities) or '(none)'}")
    if not names:
        raise FeatureRepoError(f"{where}: entities must not be empty")
    source = spec["source"]
    if not isinstance(source, str) or not source.strip():
        raise FeatureRepoError(f"{where}: source(={source!r}) must be a Parquet path")
    created = spec.get("created_timestamp_field")
    view = FeatureView(
        name=_ident(where, "name", spec["name"]), entities=names,
        join_keys=tuple(entities[e].join_key for e in names), source=source,
        source_path=(root / source).absolute(),
        timestamp_field=_ident(where, "timestamp_field", spec["timestamp_field"]),
        created_timestamp_field=None if created is None else _ident(
            where, "created_timestamp_field", created),
        ttl_s=_ttl_s(where, spec.get("ttl")),
        features=_features(where, spec["features"], on_demand=False))
    _check_columns(where, view)
    return view


def _check_columns(where: str, view: FeatureView) -> None:
    special = [*view.join_keys, view.timestamp_field, view.created_timestamp_field]
    for feat in view.features:
        if feat.name in special:
            raise FeatureRepoError(f"{where}: feature {feat.name!r} clashes with a key or "
                                   "timestamp column")


def _on_demand(file: Path, raw: object, views: Mapping[str, FeatureView]) -> OnDemandView:
    where = f"{file.name}: on-demand view {raw.get('name', '?') if isinstance(raw, dict) else '?'}"
    spec = _mapping(where, raw, allowed=("name", "sources", "features", "description"),
                    required=("name", "sources", "features"))
    sources = tuple(_list(where, "sources", spec["sources"]))
    for src in sources:
        if src not in views:
            raise FeatureRepoError(f"{where}: source {src!r} is not a feature view; known: "
                                   f"{', '.join(views) or '(none)'}")
    if not sources:
        raise FeatureRepoError(f"{where}: sources must not be empty")
    return OnDemandView(name=_ident(where, "name", spec["name"]), sources=sources,
                        features=_features(where, spec["features"], on_demand=True))


def _default_value(where: str, ref: str, value: object) -> FeatureValue:
    if not isinstance(value, bool | int | float | str):
        raise FeatureRepoError(f"{where}: defaults[{ref}](={value!r}) must be a scalar")
    return value


def _online(file: Path, raw: object, root: Path,
            views: Mapping[str, FeatureView]) -> OnlineConfig:
    where = f"{file.name}: online"
    spec = _mapping(where, raw, allowed=("backend", "path", "url", "stale_policy", "defaults"))
    backend = spec.get("backend", "sqlite")
    if backend not in BACKENDS:
        raise FeatureRepoError(f"{where}: backend(={backend!r}) is unknown; known: "
                               f"{', '.join(BACKENDS)}")
    policy = spec.get("stale_policy", "flag")
    if policy not in STALE_POLICIES:
        raise FeatureRepoError(f"{where}: stale_policy(={policy!r}) is unknown; known: "
                               f"{', '.join(STALE_POLICIES)}")
    path, url = spec.get("path", "online.db"), spec.get("url", OnlineConfig.url)
    if not isinstance(path, str) or not path or not isinstance(url, str):
        raise FeatureRepoError(f"{where}: path(={path!r}) and url(={url!r}) must be strings")
    defaults = spec.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FeatureRepoError(f"{where}: defaults(={defaults!r}) must be a mapping")
    checked = {str(ref): _default_value(where, str(ref), value) for ref, value in defaults.items()}
    for ref in checked:
        try:
            _view_feature(views, ref)
        except FeatureRepoError as exc:
            raise FeatureRepoError(f"{where}: defaults: {exc}") from None
    return OnlineConfig(backend=backend, path=(root / path).absolute(), url=url,
                        stale_policy=policy, defaults=checked)


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise FeatureRepoError(f"{file.name}: cannot read YAML ({first})") from None
    if data is None:
        return {}
    return _mapping(file.name, data,
                    allowed=("entities", "feature_views", "on_demand_views", "online", "project"))


def files_data(files: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Each YAML file with its parsed top-level mapping."""
    return [(file, _read_yaml(file)) for file in files]


def _yaml_files(root: Path) -> tuple[Path, ...]:
    if not root.is_dir():
        raise FeatureRepoError(f"feature repository {str(root)!r} is not a directory")
    files = tuple(sorted([*root.glob("*.yaml"), *root.glob("*.yml")]))
    if not files:
        raise FeatureRepoError(f"feature repository {str(root)!r} has no *.yaml file")
    return files


def load_repo(root: Path) -> FeatureRepo:
    """Read and validate every top-level ``*.yaml`` of ``root``; raises FeatureRepoError."""
    root = root.absolute()
    files = _yaml_files(root)
    parsed = files_data(files)
    entities = [(f, _entity(f, raw)) for f, raw in _items(parsed, "entities")]
    _defined_once("entity", [(f, e.name) for f, e in entities])
    ents = {e.name: e for _, e in entities}
    views = [(f, _view(f, raw, root, ents)) for f, raw in _items(parsed, "feature_views")]
    view_map = {v.name: v for _, v in views}
    odvs = [(f, _on_demand(f, raw, view_map)) for f, raw in _items(parsed, "on_demand_views")]
    _defined_once("view", [(f, v.name) for f, v in views] + [(f, o.name) for f, o in odvs])
    return FeatureRepo(root=root, files=files, entities=ents, views=view_map,
                       on_demand={o.name: o for _, o in odvs},
                       online=_online_section(parsed, root, view_map))


def _defined_once(kind: str, named: Sequence[tuple[Path, str]]) -> None:
    seen: dict[str, Path] = {}
    for file, name in named:
        if name in seen:
            raise FeatureRepoError(f"{file.name}: {kind} {name!r} is defined twice (also in "
                                   f"{seen[name].name})")
        seen[name] = file


def _items(parsed: Sequence[tuple[Path, dict[str, Any]]], key: str) -> list[tuple[Path, Any]]:
    return [(file, item) for file, data in parsed
            for item in _list(file.name, key, data.get(key) or [])]


def _online_section(parsed: Sequence[tuple[Path, dict[str, Any]]], root: Path,
                    views: Mapping[str, FeatureView]) -> OnlineConfig:
    found = [(file, data["online"]) for file, data in parsed if data.get("online") is not None]
    if len(found) > 1:
        raise FeatureRepoError(f"{found[1][0].name}: online is defined twice (also in "
                               f"{found[0][0].name})")
    if not found:
        return OnlineConfig(path=(root / "online.db").absolute())
    return _online(found[0][0], found[0][1], root, views)


def _view_feature(views: Mapping[str, FeatureView], ref: str) -> FeatureView:
    view_name, _, feat = ref.partition(":")
    if view_name not in views:
        raise FeatureRepoError(f"feature view {view_name!r} (in {ref!r}) does not exist; known: "
                               f"{', '.join(views) or '(none)'}")
    views[view_name].feature(feat)
    return views[view_name]


def parse_feature_refs(repo: FeatureRepo, refs: Iterable[str]) -> tuple[FeatureRef, ...]:
    """``["view:feat", ...]`` as FeatureRefs; FeatureRepoError names an unknown view or feature.

    Entries may also be comma-separated (``"a:x,b:y"``); duplicates are kept once.
    """
    out: list[FeatureRef] = []
    for ref in (r.strip() for item in refs for r in item.split(",") if r.strip()):
        view, sep, feat = ref.partition(":")
        if not sep or not view or not feat:
            raise FeatureRepoError(f"feature reference {ref!r} must be view:feature")
        if view in repo.on_demand:
            repo.on_demand[view].feature(feat)
        elif view in repo.views:
            repo.views[view].feature(feat)
        else:
            known = ", ".join([*repo.views, *repo.on_demand]) or "(none)"
            raise FeatureRepoError(f"feature view {view!r} (in {ref!r}) does not exist; "
                                   f"known: {known}")
        parsed = FeatureRef(view=view, feature=feat, on_demand=view in repo.on_demand)
        if parsed not in out:
            out.append(parsed)
    if not out:
        raise FeatureRepoError("no feature requested; give view:feature,...")
    return tuple(out)
