"""Online feature lookup: values for a batch of entities, with freshness and on-demand features.

:func:`lookup` reads each feature view the request needs in one batch from the online
store (one round trip per view), applies :mod:`~mlfleet.storage.features.freshness`
(age, stale flag, the repository's stale policy and defaults) and computes on-demand
features from the served values of their source views with the same SQL expressions as
the offline store (one DuckDB query per on-demand view, over the batch). An on-demand
value takes the worst status of the values it was computed from and their oldest age.

Entities come as join-key columns: ``{"user_id": ["1", "2"]}``; :func:`parse_entities`
reads the CLI's ``--entity user_id=1,2`` (repeat the option for composite keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlfleet.errors import InputError
from mlfleet.storage.features.definitions import FeatureRef, FeatureRepo, FeatureRepoError
from mlfleet.storage.features.freshness import STATUSES, ServedFeature, serve
from mlfleet.storage.features.on_demand_online import coerce, evaluate, input_refs
from mlfleet.storage.features.online_store import OnlineStore, entity_key

EntityColumns = Mapping[str, Sequence[str]]
"""Join key -> its value for each entity of the batch, all of one length."""


@dataclass(frozen=True, kw_only=True)
class OnlineRow:
    """The features served for one entity of the batch."""

    entity: Mapping[str, str]
    """Join key -> value."""
    features: Mapping[str, ServedFeature]
    """``view:feature`` -> what was served, in the order asked for."""


def parse_entities(options: Sequence[str]) -> dict[str, list[str]]:
    """``["user_id=1,2,3"]`` -> ``{"user_id": ["1", "2", "3"]}``; InputError for a
    malformed option, a repeated key, or keys with different numbers of values."""
    columns: dict[str, list[str]] = {}
    for option in options:
        name, sep, values = option.partition("=")
        parts = [v.strip() for v in values.split(",")]
        if not sep or not name.strip() or not all(parts):
            raise InputError(f"--entity(={option!r}) must be KEY=VALUE[,VALUE...], "
                             "e.g. user_id=1,2,3")
        if name.strip() in columns:
            raise InputError(f"--entity: join key {name.strip()!r} is given twice")
        columns[name.strip()] = parts
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InputError("--entity options must give the same number of values each; got "
                         + ", ".join(f"{k}: {len(v)}" for k, v in columns.items()))
    if not columns:
        raise InputError("--entity is required: KEY=VALUE[,VALUE...]")
    return columns


def _needed_views(repo: FeatureRepo, refs: Sequence[FeatureRef]) -> dict[str, list[str]]:
    """View -> features to read: the ones asked for and every feature of on-demand sources."""
    needed: dict[str, list[str]] = {}
    for ref in refs:
        if ref.on_demand:
            for source in repo.on_demand[ref.view].sources:
                needed.setdefault(source, [])
                needed[source] += [f.name for f in repo.views[source].features]
        else:
            needed.setdefault(ref.view, []).append(ref.feature)
    return {view: list(dict.fromkeys(feats)) for view, feats in needed.items()}


def _check_join_keys(repo: FeatureRepo, views: Sequence[str], entities: EntityColumns) -> None:
    for view in views:
        for key in repo.views[view].join_keys:
            if key not in entities:
                raise FeatureRepoError(f"feature view {view} needs join key {key!r}; --entity "
                                       f"gave: {', '.join(entities)}")


def _serve_view(repo: FeatureRepo, store: OnlineStore, view: str, features: Sequence[str],
                entities: EntityColumns, now_s: float) -> list[dict[str, ServedFeature]]:
    fv, online = repo.views[view], repo.online
    count = len(next(iter(entities.values())))
    keys = [entity_key([entities[k][i] for k in fv.join_keys]) for i in range(count)]
    dtypes = {f.name: f.dtype for f in fv.features}
    out: list[dict[str, ServedFeature]] = []
    for stored in store.read(view, keys, features):
        out.append({f"{view}:{name}": serve(
            value=None if stored is None else coerce(stored.values[name], dtypes[name]),
            event_ts_s=None if stored is None else stored.event_ts_s, found=stored is not None,
            now_s=now_s, ttl_s=fv.ttl_s, policy=online.stale_policy,
            default=online.defaults.get(f"{view}:{name}")) for name in features})
    return out


def lookup(repo: FeatureRepo, store: OnlineStore, refs: Sequence[FeatureRef],
           entities: EntityColumns, *, now_s: float) -> list[OnlineRow]:
    """Serve ``refs`` for every entity of the batch at time ``now_s`` (epoch seconds).

    :class:`FeatureRepoError` when a view needs a join key ``entities`` lacks.
    """
    needed = _needed_views(repo, refs)
    _check_join_keys(repo, list(needed), entities)
    count = len(next(iter(entities.values())))
    served: list[dict[str, ServedFeature]] = [{} for _ in range(count)]
    for view, features in needed.items():
        for row, values in zip(served, _serve_view(repo, store, view, features, entities,
                                                   now_s), strict=True):
            row.update(values)
    for odv in dict.fromkeys(r.view for r in refs if r.on_demand):
        _add_on_demand(repo, odv, served)
    return [OnlineRow(entity={k: v[i] for k, v in entities.items()},
                      features={r.ref: served[i][r.ref] for r in refs}) for i in range(count)]


def _add_on_demand(repo: FeatureRepo, name: str, served: list[dict[str, ServedFeature]]) -> None:
    """Compute every feature of on-demand view ``name`` for each row, in place."""
    odv = repo.on_demand[name]
    inputs = input_refs(repo, odv)
    values = evaluate(repo, odv, [{i: row[i].value for i in inputs} for row in served])
    for row, computed in zip(served, values, strict=True):
        origin = [row[i] for i in inputs]
        status = max((s.status for s in origin), key=STATUSES.index)
        ages = [s.age_s for s in origin if s.age_s is not None]
        events = [s.event_ts_s for s in origin if s.event_ts_s is not None]
        for feature, value in zip(odv.features, computed, strict=True):
            row[f"{name}:{feature.name}"] = ServedFeature(
                value=value, event_ts_s=min(events, default=None), age_s=max(ages, default=None),
                status=status, defaulted=any(s.defaulted for s in origin))
