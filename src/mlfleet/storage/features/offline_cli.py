"""``mlfleet features apply`` and ``mlfleet features historical``.

    mlfleet features apply REPO_DIR [--check] [--json]
    mlfleet features historical [REPO_DIR] --entities ENTITY_DF.parquet \\
        --features user_stats:ctr,user_derived:ctr_pct [--out OUT.parquet] [--json]

``apply`` validates the YAML definitions against their Parquet sources and writes
``REPO_DIR/.mlfleet/registry.json`` (``--check``: validate only, write nothing).
``historical`` is Feast's ``get_historical_features``: one output row per entity row, in
the input's order, with the point-in-time-correct value of each feature (docs/storage-features.md).
With ``--out`` it writes Parquet atomically; without, it prints the first ``--head`` rows.
Bad input (a negative TTL, an entity file without its timestamp column, an unknown
feature, a corrupt or missing Parquet file) exits 2 with one line and writes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from mlfleet.storage.features.definitions import load_repo, parse_feature_refs

_REPO = click.Path(file_okay=False, path_type=Path)


@click.command("apply")
@click.argument("repo_dir", type=_REPO, default=Path("."))
@click.option("--check", is_flag=True, help="Validate only; do not write the registry.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def apply_command(repo_dir: Path, check: bool, as_json: bool) -> None:
    """Validate a feature repository and record it in REPO_DIR/.mlfleet/registry.json."""
    from mlfleet.storage.features.registry import apply

    summary = apply(repo_dir, write=not check)
    doc = {"repo_dir": str(summary.repo_dir), "digest": summary.digest,
           "registry": None if summary.registry_path is None else str(summary.registry_path),
           "entities": list(summary.entities), "feature_views": list(summary.feature_views),
           "on_demand_views": list(summary.on_demand_views), "features": summary.features}
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    where = "checked (nothing written)" if check else f"registry {summary.registry_path}"
    click.echo(f"{len(summary.entities)} entities, {len(summary.feature_views)} feature views, "
               f"{len(summary.on_demand_views)} on-demand views, {summary.features} features: "
               f"{where}")


def _preview(path: Path, head: int) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path).slice(0, head)
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@click.command("historical")
@click.argument("repo_dir", type=_REPO, default=Path("."))
@click.option("--entities", "entities", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Parquet entity table: join keys and a timestamp column.")
@click.option("--features", "features", required=True,
              help="Comma-separated view:feature references (on-demand views too).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the training data here (Parquet); without it, print --head rows.")
@click.option("--timestamp-column", default="event_timestamp", show_default=True,
              help="The entity table's event-time column.")
@click.option("--full-names", is_flag=True, help="Name output columns view__feature.")
@click.option("--strategy", type=click.Choice(("auto", "hash", "asof")), default="auto",
              show_default=True, help="Join strategy (same result; auto picks by key repeats).")
@click.option("--head", type=click.IntRange(min=0), default=10, show_default=True,
              help="Rows to print when there is no --out.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def historical_command(repo_dir: Path, entities: Path, features: str, out: Path | None,
                       timestamp_column: str, full_names: bool, strategy: str, head: int,
                       as_json: bool) -> None:
    """Point-in-time-correct features for every row of an entity table."""
    from mlfleet.storage.features.offline import retrieve

    repo = load_repo(repo_dir)
    refs = parse_feature_refs(repo, [features])
    with tempfile.TemporaryDirectory(prefix="mlfleet-historical-") as scratch:
        target = out if out is not None else Path(scratch) / "out.parquet"
        result = retrieve(repo, refs, entity_path=entities, out_path=target,
                          timestamp_column=timestamp_column, full_names=full_names,
                          strategy=strategy)
        rows = [] if out is not None else _preview(target, head)
    doc = {"out": None if out is None else str(out), "rows": result.rows,
           "columns": list(result.columns), "elapsed_s": result.elapsed_s,
           "features": [r.ref for r in refs], "head": rows}
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    _print_text(doc)


def _print_text(doc: dict[str, Any]) -> None:
    where = f" -> {doc['out']}" if doc["out"] else ""
    click.echo(f"{doc['rows']} rows x {len(doc['columns'])} columns in "
               f"{doc['elapsed_s'] * 1e3:.0f} ms{where}")
    if doc["head"]:
        columns = doc["columns"]
        click.echo("\t".join(columns))
        for row in doc["head"]:
            click.echo("\t".join("null" if row[c] is None else str(row[c]) for c in columns))
