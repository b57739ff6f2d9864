"""``mlfleet features materialize`` and ``mlfleet features online``.

    mlfleet features materialize REPO --start 2026-01-01 --end 2026-01-31T00:00:00
    mlfleet features materialize REPO --end now            # continue from the last end
    mlfleet features online REPO --entity user_id=1,2,3 --features user_stats:ctr --json

Times are ISO 8601 (UTC unless an offset is given) or ``now``. ``materialize`` loads the
latest row per entity in the window into the repository's online store (SQLite file or
Redis, ``online:`` in the YAML); a failed run leaves no new store file behind.
``online`` serves values with their age, a ``stale`` status past the view's TTL and the
repository's stale policy (``flag`` or ``default``); ``--now`` fixes the clock. It only
reads: an online store that does not exist yet serves every value as missing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.storage.features.definitions import FeatureRepo, load_repo
from mlfleet.storage.features.freshness import ServedFeature
from mlfleet.storage.features.materialize import ViewMaterialization
from mlfleet.storage.features.online_factory import open_online_store
from mlfleet.storage.features.online_lookup import OnlineRow
from mlfleet.storage.features.online_store import OnlineStore


def parse_time(option: str, text: str) -> float:
    """``now`` or an ISO 8601 date/time (UTC unless it has an offset) -> epoch seconds."""
    if text.strip().lower() == "now":
        return time.time()
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ts_s = moment.timestamp()
        datetime.fromtimestamp(ts_s, UTC)       # printable back in UTC (years 1..9999)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"{option}(={text!r}) must be an ISO 8601 time such as "
                         "2026-01-31T12:00:00 (UTC unless an offset is given; years 1 to "
                         "9999 in UTC) or now") from None
    return ts_s


def iso(ts_s: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string (None for None, or outside years 1..9999,
    which ``end − ttl`` can reach from an early ``--end``)."""
    try:
        return None if ts_s is None else datetime.fromtimestamp(ts_s, UTC).isoformat()
    except (ValueError, OverflowError, OSError):
        return None


def open_store(repo: FeatureRepo, *, read_only: bool) -> OnlineStore:
    """The repository's online store (``online.backend``)."""
    online = repo.online
    return open_online_store(backend=online.backend, sqlite_path=online.path,
                             redis_url=online.url, read_only=read_only)


@contextlib.contextmanager
def _new_files_removed_on_error(repo: FeatureRepo) -> Iterator[None]:
    """Remove a SQLite store (and its WAL files) this command created, if it fails."""
    path = repo.online.path if repo.online.backend == "sqlite" else None
    fresh = path is not None and not path.exists()
    try:
        yield
    except BaseException:
        if fresh and path is not None:
            for extra in ("", "-wal", "-shm", "-journal"):
                Path(str(path) + extra).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr, one step per view (a no-op when disabled)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _view: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("materializing", total=total)
        yield lambda view: bar.update(task, advance=1, description=view)


def _run_materialize(repo: FeatureRepo, *, start_s: float | None, end_s: float,
                     views: Sequence[str] | None, show: bool,
                     dry_run: bool) -> list[ViewMaterialization]:
    from mlfleet.storage.features.materialize import materialize, select_views

    chosen = [v.name for v in select_views(repo, views)]
    results: list[ViewMaterialization] = []
    with _new_files_removed_on_error(repo):
        store = open_store(repo, read_only=dry_run)
        try:
            # Every view is read before the first write (materialize() does that per call),
            # so views go in one call; the bar then advances once the call returns.
            with _progress(show, len(chosen)) as tick:
                results = materialize(repo, store, start_ts_s=start_s, end_ts_s=end_s,
                                      views=chosen, dry_run=dry_run)
                for result in results:
                    tick(result.view)
        finally:
            store.close()
    return results


def _materialize_doc(repo: FeatureRepo, results: Sequence[ViewMaterialization], *,
                     dry_run: bool) -> dict[str, Any]:
    where = str(repo.online.path) if repo.online.backend == "sqlite" else repo.online.url
    return {"backend": repo.online.backend, "store": where, "dry_run": dry_run, "views": [
        {"view": r.view, "start": iso(r.start_ts_s), "start_ts_s": r.start_ts_s,
         "end": iso(r.end_ts_s), "end_ts_s": r.end_ts_s, "entities": r.entities,
         "rows_written": r.rows_written} for r in results]}


@click.command("materialize")
@click.argument("repo_dir", type=click.Path(path_type=Path))
@click.option("--start", "start", default=None,
              help="Window start (ISO 8601 or now); default: where the last run ended, "
                   "else end − TTL, else the first row.")
@click.option("--end", "end", required=True, help="Window end, included (ISO 8601 or now).")
@click.option("--views", default=None, help="Comma-separated feature views (default: all).")
@click.option("--dry-run", is_flag=True,
              help="Read the sources and report what would be written; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def materialize_command(repo_dir: Path, start: str | None, end: str, views: str | None,
                        dry_run: bool, as_json: bool) -> None:
    """Load the latest feature values per entity in a window into the online store."""
    from mlfleet.cli import emit_json

    end_s = parse_time("--end", end)
    start_s = None if start is None else parse_time("--start", start)
    if start_s is not None and start_s > end_s:
        raise InputError(f"--start(={start!r}) is after --end(={end!r})")
    names = None if views is None else [v.strip() for v in views.split(",") if v.strip()]
    repo = load_repo(repo_dir)
    results = _run_materialize(repo, start_s=start_s, end_s=end_s, views=names,
                               show=not as_json, dry_run=dry_run)
    doc = _materialize_doc(repo, results, dry_run=dry_run)
    if as_json:
        emit_json(doc)
        return
    click.echo(f"online store: {doc['backend']} {doc['store']}"
               + (" (dry run: nothing written)" if dry_run else ""))
    for r in doc["views"]:
        click.echo(f"  {r['view']}: [{r['start'] or 'first row'}, {r['end']}]  "
                   f"{r['entities']} entities, {r['rows_written']} rows written")


def _feature_doc(served: ServedFeature) -> dict[str, Any]:
    return {"value": served.value, "event_ts": iso(served.event_ts_s),
            "event_ts_s": served.event_ts_s, "age_s": served.age_s, "status": served.status,
            "stale": served.status == "stale", "defaulted": served.defaulted}


def _show(served: ServedFeature) -> str:
    from mlfleet.units import format_duration

    text = "null" if served.value is None else str(served.value)
    marks = [m for m, on in (("default", served.defaulted), (served.status,
                                                             served.status != "fresh")) if on]
    age = "" if served.age_s is None else f" ({format_duration(served.age_s)} old)"
    return text + age + (f" [{', '.join(marks)}]" if marks else "")


def _print_rows(rows: Sequence[OnlineRow]) -> None:
    for row in rows:
        click.echo(", ".join(f"{k}={v}" for k, v in row.entity.items()))
        for ref, served in row.features.items():
            click.echo(f"  {ref} = {_show(served)}")


@click.command("online")
@click.argument("repo_dir", type=click.Path(path_type=Path))
@click.option("--entity", "entities", multiple=True, required=True,
              help="JOIN_KEY=V1,V2,... (repeat for composite keys).")
@click.option("--features", "features", required=True, help="view:feature,... to serve.")
@click.option("--now", "now", default="now", show_default=True,
              help="The clock for ages and staleness (ISO 8601 or now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def online_command(repo_dir: Path, entities: tuple[str, ...], features: str, now: str,
                   as_json: bool) -> None:
    """Look up online feature values for entities, with their age and staleness."""
    from mlfleet.cli import emit_json
    from mlfleet.storage.features.definitions import parse_feature_refs
    from mlfleet.storage.features.online_lookup import lookup, parse_entities

    now_s = parse_time("--now", now)
    columns = parse_entities(entities)
    repo = load_repo(repo_dir)
    refs = parse_feature_refs(repo, [features])
    store = open_store(repo, read_only=True)
    try:
        rows = lookup(repo, store, refs, columns, now_s=now_s)
    finally:
        store.close()
    if not as_json:
        _print_rows(rows)
        return
    emit_json({"now": iso(now_s), "now_ts_s": now_s, "stale_policy": repo.online.stale_policy,
               "rows": [{"entity": dict(r.entity),
                         "features": {k: _feature_doc(v) for k, v in r.features.items()}}
                        for r in rows]})
