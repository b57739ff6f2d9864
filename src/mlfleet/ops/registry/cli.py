"""``mlfleet ops registry``: the model registry on MLflow (SQLite), from the command line.

    mlfleet ops registry demo                                # a one-command tour
    mlfleet ops registry register --file recsys-models.yaml
    mlfleet ops registry register ranker-dnn --source s3://m/dnn/2 --inputs user_emb:float32[64] \\
        --outputs score:float32[100] --metric ndcg=0.36 --replicas 8 --gpus 1 --team ranking
    mlfleet ops registry ensemble create recsys --spec recsys-12.yaml
    mlfleet ops registry promote recsys 2 --gate ndcg>=0.30 --why "offline eval passed"
    mlfleet ops registry canary recsys 3 --share 10%
    mlfleet ops registry rollback recsys --why "CTR dropped"
    mlfleet ops registry resolve recsys --unit user-42
    mlfleet ops registry show recsys
    mlfleet ops registry history recsys
    mlfleet ops registry deprecate ranker-dnn 1 --reason "superseded"
    mlfleet ops registry retire ranker-dnn 1 --migrate-to 2
    mlfleet ops registry retention ranker-dnn --keep 3
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from mlfleet.ops.registry.card import (
    ModelCard,
    Resources,
    model_name,
    parse_columns,
    parse_metrics,
)
from mlfleet.ops.registry.errors import RegistryInputError
from mlfleet.ops.registry.gates import MetricGate, parse_gate
from mlfleet.ops.registry.read_cli import (
    STORE,
    demo_command,
    history_command,
    resolve_command,
    show_command,
)
from mlfleet.ops.registry.store import open_store

WHO = click.option("--who", default=None, help="Who does it, for the audit history "
                                               "(default: the login name).")
WHY = click.option("--why", default="", help="Why, for the audit history.")
GATES = click.option("--gate", "gates", multiple=True, metavar="[MEMBER.]METRIC OP NUMBER",
                     help="A metric gate, e.g. 'ndcg>=0.30' (repeatable).")
VERSION = click.argument("version", type=int)


def _who(who: str | None) -> str:
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _gates(texts: tuple[str, ...]) -> list[MetricGate]:
    return [parse_gate(t) for t in texts]


def _share(text: str) -> float:
    """``10%`` or ``0.1`` -> 0.1 (range checked by the caller)."""
    number = text.strip()
    scale = 100.0 if number.endswith("%") else 1.0
    try:
        return float(number.removesuffix("%")) / scale
    except ValueError:
        raise RegistryInputError(f"share(={text!r}) must be a fraction (0.1) or a percentage "
                                 "(10%)") from None


@click.group("registry", context_settings={"help_option_names": ["-h", "--help"]})
def registry_group() -> None:
    """Model registry on MLflow: ensembles, atomic promotion, rollback, audit, retirement."""


@registry_group.command("register")
@click.argument("name", required=False)
@click.option("--file", "file", default=None, metavar="FILE",
              help="Register every model in a YAML file (models: [...]) instead.")
@click.option("--source", default=None, help="The artifact URI.")
@click.option("--inputs", default="", help="Input columns NAME:TYPE,...")
@click.option("--outputs", default="", help="Output columns NAME:TYPE,...")
@click.option("--metric", "metrics", multiple=True, metavar="NAME=VALUE", help="Repeatable.")
@click.option("--replicas", default=1, show_default=True, type=int)
@click.option("--gpus", default=0.0, show_default=True, type=float, help="Per replica.")
@click.option("--cpus", default=1.0, show_default=True, type=float, help="Per replica.")
@click.option("--team", default="", help="The owning team.")
@STORE
def register_command(name: str | None, file: str | None, source: str | None, inputs: str,
                     outputs: str, metrics: tuple[str, ...], replicas: int, gpus: float,
                     cpus: float, team: str, store: str | None) -> None:
    """Register a new version of model NAME (or every model in --file)."""
    from mlfleet.ops.registry.model_file import load_cards

    if (name is None) == (file is None):
        raise RegistryInputError("give a model NAME or --file FILE (one of the two)")
    if file is not None:
        cards = load_cards(Path(file))
    else:
        cards = [ModelCard(name=model_name("NAME", name or ""), version=0,
                           source_uri=source or f"models/{name}",
                           inputs=parse_columns("inputs", inputs),
                           outputs=parse_columns("outputs", outputs),
                           metrics=parse_metrics(metrics),
                           resources=Resources(replicas=replicas, gpus_per_replica=gpus,
                                               cpus_per_replica=cpus), team=team)]
    for card in cards:
        if card.name.startswith("ensemble."):
            raise RegistryInputError(f"name(={card.name!r}): 'ensemble.' names are kept for "
                                     "ensembles")
    with open_store(store, create=True) as registry:
        for card in cards:
            click.echo(f"registered {registry.register(card).ref}")


@registry_group.group("ensemble")
def ensemble_group() -> None:
    """Ensembles: dependency graphs of pinned model versions."""


@ensemble_group.command("create")
@click.argument("name")
@click.option("--spec", "spec_file", required=True, metavar="FILE",
              help="YAML: members [{name, version}], edges [[producer, consumer]].")
@STORE
def ensemble_create_command(name: str, spec_file: str, store: str | None) -> None:
    """Create a new version of ensemble NAME pinning the members in --spec."""
    from mlfleet.ops.registry.ensemble import create_version, ensemble_model, load_spec

    ensemble_model(name)
    spec = load_spec(Path(spec_file))
    with open_store(store) as registry:
        made = create_version(registry, name, spec)
    click.echo(f"created {name} v{made.version}: {len(spec.members)} members, "
               f"{len(spec.edges)} edges pinned")


@registry_group.command("promote")
@click.argument("ensemble")
@VERSION
@GATES
@WHO
@WHY
@STORE
def promote_command(ensemble: str, version: int, gates: tuple[str, ...], who: str | None,
                    why: str, store: str | None) -> None:
    """Make VERSION of ENSEMBLE production (one alias flip) if every gate passes."""
    from mlfleet.ops.registry.promote import promote

    parsed = _gates(gates)
    with open_store(store) as registry:
        done = promote(registry, ensemble, version, gates=parsed, who=_who(who), why=why)
    passed = sum(g.passed for g in done.gates)
    click.echo(f"{ensemble}: production v{done.from_version} -> v{done.to_version} "
               f"({passed} gates passed)")


@registry_group.command("canary")
@click.argument("ensemble")
@VERSION
@click.option("--share", default="10%", show_default=True,
              help="Share of units on the canary: 0.1 or 10%; 0 ends the canary.")
@GATES
@WHO
@WHY
@STORE
def canary_command(ensemble: str, version: int, share: str, gates: tuple[str, ...],
                   who: str | None, why: str, store: str | None) -> None:
    """Send a share of units (by hashed unit id) to VERSION of ENSEMBLE."""
    from mlfleet.ops.registry.promote import canary

    fraction_ = _share(share)
    parsed = _gates(gates)
    with open_store(store) as registry:
        done = canary(registry, ensemble, version, share=fraction_, gates=parsed,
                      who=_who(who), why=why)
    if done.to_version is None:
        click.echo(f"{ensemble}: canary ended (was v{done.from_version})")
    else:
        click.echo(f"{ensemble}: canary v{done.to_version} at {fraction_:.1%} of units")


@registry_group.command("rollback")
@click.argument("ensemble")
@WHO
@WHY
@STORE
def rollback_command(ensemble: str, who: str | None, why: str, store: str | None) -> None:
    """Put back the production version live before the current one; end any canary."""
    from mlfleet.ops.registry.promote import rollback

    with open_store(store) as registry:
        done = rollback(registry, ensemble, who=_who(who), why=why)
    click.echo(f"{ensemble}: production v{done.from_version} -> v{done.to_version} "
               "(rolled back; canary cleared)")


@registry_group.command("deprecate")
@click.argument("model")
@VERSION
@click.option("--reason", default="", help="Shown to whoever tries to pin it.")
@STORE
def deprecate_command(model: str, version: int, reason: str, store: str | None) -> None:
    """Deprecate MODEL VERSION: it still serves, but new ensemble versions may not pin it."""
    from mlfleet.ops.registry.lifecycle import deprecate

    with open_store(store) as registry:
        live = deprecate(registry, model, version, reason=reason)
    click.echo(f"deprecated {model}@v{version}")
    for pin in live:
        click.echo(f"warning: {pin.ensemble} v{pin.version} ({'/'.join(pin.aliases)}) still "
                   f"serves {model}@v{version}", err=True)


@registry_group.command("retire")
@click.argument("model")
@VERSION
@click.option("--migrate-to", "migrate_to", type=int, default=None, metavar="VERSION",
              help="Move every live ensemble to this version first (through the gates).")
@GATES
@WHO
@WHY
@STORE
def retire_command(model: str, version: int, migrate_to: int | None, gates: tuple[str, ...],
                   who: str | None, why: str, store: str | None) -> None:
    """Retire MODEL VERSION; refused while a live ensemble pins it unless --migrate-to."""
    from mlfleet.ops.registry.lifecycle import retire

    parsed = _gates(gates)
    with open_store(store) as registry:
        done = retire(registry, model, version, migrate_to=migrate_to, gates=parsed,
                      who=_who(who), why=why or "retired")
    if done.pinned_by:
        click.echo("pinned by: " + ", ".join(f"{p.ensemble} v{p.version}" for p in done.pinned_by))
    for moved in done.migrated:
        click.echo(f"migrated {moved.ensemble}: {moved.alias} v{moved.from_version} -> "
                   f"v{moved.to_version}")
    res = done.reclaimed
    click.echo(f"retired {model}@v{version}; reclaimed {res.replicas} replicas, "
               f"{res.gpus:g} GPUs, {res.cpus:g} CPUs")


@registry_group.command("retention")
@click.argument("model")
@click.option("--keep", default=3, show_default=True, type=int,
              help="Newest versions to keep besides those live.")
@click.option("--apply", "apply_", is_flag=True, help="Delete them (default: only list).")
@STORE
def retention_command(model: str, keep: int, apply_: bool, store: str | None) -> None:
    """List (or delete) the versions of MODEL a keep-last-N policy would remove."""
    from mlfleet.ops.registry.lifecycle import retention

    with open_store(store) as registry:
        kept, doomed = retention(registry, model, keep=keep)
        if apply_:
            for version in doomed:
                registry.client.delete_model_version(model, str(version))
    shown = ", ".join(f"v{v}" for v in doomed) or "nothing"
    click.echo(f"{model}: keep {', '.join(f'v{v}' for v in kept) or 'nothing'}; "
               f"{'deleted' if apply_ else 'would delete'} {shown}")


for _command in (show_command, resolve_command, history_command, demo_command):
    registry_group.add_command(_command)
