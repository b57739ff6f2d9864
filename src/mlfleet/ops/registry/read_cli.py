"""The registry's reading commands (``show``, ``resolve``, ``history``) and the ``demo`` tour.

None of the reading commands creates a store: a missing one is an error (exit 2).
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any

import click

from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.store import STORE_ENV, RegistryStore, open_store

STORE = click.option("--store", default=None, metavar="PATH",
                     help=f"Registry SQLite file (default: ${STORE_ENV}, else "
                          "./mlfleet-registry.db).")
JSON = click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")


def _emit(doc: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json(doc)


def _utc(at_s: float | None) -> str | None:
    if at_s is None:
        return None
    return datetime.datetime.fromtimestamp(at_s, datetime.UTC).isoformat(timespec="seconds")


def _warn_deprecated(registry: RegistryStore, members: dict[str, int]) -> None:
    for name, version in members.items():
        card = registry.card(name, version)
        if card.status != "active":
            reason = f" ({card.status_reason})" if card.status_reason else ""
            click.echo(f"warning: member {card.ref} is {card.status}{reason}", err=True)


@click.command("show")
@click.argument("ensemble")
@click.option("--version", type=int, default=None, help="Default: the production version.")
@STORE
@JSON
def show_command(ensemble: str, version: int | None, store: str | None, as_json: bool) -> None:
    """An ensemble's aliases and a version's pinned members, teams and resources."""
    from mlfleet.ops.registry.ensemble import ensemble_model, read_manifest
    from mlfleet.ops.registry.resolve import canary_share

    with open_store(store) as registry:
        found = registry.registered(ensemble_model(ensemble))
        if found is None:
            raise RegistryInputError(f"ensemble(={ensemble!r}) is unknown in {registry.path}")
        aliases, tags = found
        chosen = version if version is not None else aliases.get("production")
        if chosen is None:
            raise RegistryInputError(f"ensemble {ensemble!r} has no production version; "
                                     "name one with --version")
        manifest = read_manifest(registry, ensemble, chosen)
        cards = [registry.card(n, v) for n, v in manifest.members().items()]
        doc = {"ensemble": ensemble, "version": chosen, "aliases": aliases,
               "canary_share": canary_share(tags, aliases.get("canary")),
               "versions": registry.versions(ensemble_model(ensemble)),
               "members": [{"name": c.name, "version": c.version, "team": c.team,
                            "status": c.status, "replicas": c.resources.replicas,
                            "gpus": c.resources.gpus, "cpus": c.resources.cpus}
                           for c in cards],
               "edges": [list(e) for e in manifest.spec.edges]}
        _warn_deprecated(registry, manifest.members())
    if as_json:
        _emit(doc)
        return
    held = ", ".join(f"{a}=v{v}" for a, v in sorted(aliases.items())) or "no aliases"
    click.echo(f"{ensemble} v{chosen} ({held}); {len(cards)} members, "
               f"{len(manifest.spec.edges)} edges")
    for c in cards:
        click.echo(f"  {c.ref:<28} {c.team:<10} {c.status:<10} {c.resources.replicas:>3} "
                   f"replicas {c.resources.gpus:>5g} GPUs")


@click.command("resolve")
@click.argument("ensemble")
@click.option("--unit", default=None, help="A unit id (user, session): production or canary "
                                           "by its hash. Default: production.")
@STORE
@JSON
def resolve_command(ensemble: str, unit: str | None, store: str | None, as_json: bool) -> None:
    """The ensemble version (and every pinned member) that serves a unit."""
    from mlfleet.ops.registry.resolve import resolve, resolve_alias

    with open_store(store) as registry:
        found = resolve(registry, ensemble, unit) if unit is not None \
            else resolve_alias(registry, ensemble)
        _warn_deprecated(registry, found.manifest.members())
    doc = {"ensemble": ensemble, "alias": found.alias, "version": found.manifest.version,
           "unit": unit, "bucket": found.bucket, "canary_share": found.canary_share,
           "members": found.manifest.members(),
           "edges": [list(e) for e in found.manifest.spec.edges]}
    if as_json:
        _emit(doc)
        return
    where = f"unit {unit!r} (bucket {found.bucket:.4f}, canary share {found.canary_share:g})" \
        if unit is not None else "production"
    click.echo(f"{ensemble}: {where} -> {found.alias} v{found.manifest.version}")
    click.echo("  " + ", ".join(f"{n}@v{v}" for n, v in found.manifest.members().items()))


def history_doc(registry: RegistryStore, ensemble: str) -> dict[str, Any]:
    """Live periods per alias and every move, for ``history`` and the demo."""
    from mlfleet.ops.registry import audit

    rows = audit.rows(registry, ensemble)
    periods = [{"alias": alias, "version": p.version, "from": _utc(p.from_s), "to": _utc(p.to_s),
                "action": p.action, "who": p.who, "why": p.why}
               for alias in ("production", "canary") for p in audit.live_periods(rows, alias)]
    moves = [{"seq": r.seq, "alias": r.alias, "action": r.action, "from_version": r.from_version,
              "to_version": r.to_version, "share": r.share, "who": r.who, "why": r.why,
              "at": _utc(r.at_s)} for r in rows]
    return {"ensemble": ensemble, "periods": periods, "moves": moves}


def _print_history(doc: dict[str, Any]) -> None:
    click.echo(f"{'from (UTC)':<26}{'to (UTC)':<26}{'alias':<11}{'version':<8}{'action':<9}"
               "who: why")
    for p in doc["periods"]:
        click.echo(f"{p['from']:<26}{p['to'] or 'now':<26}{p['alias']:<11}{'v' + str(p['version']):<8}"
                   f"{p['action']:<9}{p['who']}: {p['why']}")


@click.command("history")
@click.argument("ensemble")
@STORE
@JSON
def history_command(ensemble: str, store: str | None, as_json: bool) -> None:
    """Which version of ENSEMBLE was live when, who moved it and why (the audit table)."""
    from mlfleet.ops.registry.ensemble import ensemble_model

    with open_store(store) as registry:
        if not registry.model_exists(ensemble_model(ensemble)):
            raise RegistryInputError(f"ensemble(={ensemble!r}) is unknown in {registry.path}")
        doc = history_doc(registry, ensemble)
    if as_json:
        _emit(doc)
    else:
        _print_history(doc)


@click.command("demo")
@click.option("--store", default=None, metavar="PATH",
              help="Keep the tour's registry in this new file (default: a temporary one).")
@JSON
def demo_command(store: str | None, as_json: bool) -> None:
    """A tour: 12-model ensemble, gated promotion, canary, refused gate, rollback, audit."""
    if store is not None and Path(store).exists():
        raise RegistryInputError(f"store(={store!r}) already exists; the demo builds a new one")
    with tempfile.TemporaryDirectory(prefix="mlfleet-registry-demo-") as tmp:
        path = Path(store) if store is not None else Path(tmp) / "registry.db"
        doc = _run_demo(path)
    doc["store"] = store
    if as_json:
        _emit(doc)
        return
    for step in doc["steps"]:
        click.echo(f"{step['action']:<9} {step['detail']}")
    click.echo("")
    _print_history(doc["history"])


def _run_demo(path: Path) -> dict[str, Any]:
    from mlfleet.ops.registry.demo import ENSEMBLE, run_demo

    try:
        with RegistryStore(path, create=True) as registry:
            steps = run_demo(registry)
            history = history_doc(registry, ENSEMBLE)
    except BaseException:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    return {"steps": [{"action": s.action, "detail": s.detail} for s in steps],
            "history": history}
