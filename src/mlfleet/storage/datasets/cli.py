"""``mlfleet storage dataset``: versions, time travel, quality and lineage of a dataset.

    mlfleet storage dataset demo ./clicks                 # three versions of a click log
    mlfleet storage dataset commit ./clicks --from new.parquet -m "July export"
    mlfleet storage dataset log ./clicks
    mlfleet storage dataset show ./clicks --version 0
    mlfleet storage dataset diff ./clicks --from 0 --to 2
    mlfleet storage dataset quality ./clicks              # latest against the one before
    mlfleet storage dataset lineage trained --db lineage.db --checkpoint ck-7 --dataset ./clicks --version 2
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click

from mlfleet.errors import ConstraintViolation, InputError
from mlfleet.storage.datasets import versions
from mlfleet.storage.datasets.lineage_cli import lineage_group
from mlfleet.storage.datasets.quality import QualityReport, Thresholds, check_quality

JSON = click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")


def _emit(doc: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json(doc)


def _dataset(path: str) -> Path:
    found = Path(path)
    if not versions.exists(found):
        raise versions.DatasetNotFoundError(f"{path!r} holds no dataset (no Delta log)")
    return found


@click.group("dataset", context_settings={"help_option_names": ["-h", "--help"]})
def dataset_group() -> None:
    """Dataset versions (Delta Lake), time travel, schema checks, quality and lineage."""


dataset_group.add_command(lineage_group)


@dataset_group.command("demo")
@click.argument("path")
@click.option("--rows", default=2000, show_default=True, type=int, help="Rows of version 0.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
def demo_command(path: str, rows: int, seed: int) -> None:
    """Write a synthetic click log in three versions at PATH (a new directory)."""
    from mlfleet.storage.datasets.demo import write_demo

    target = Path(path)
    if target.exists():
        raise InputError(f"PATH(={path!r}) already exists; the demo writes a new dataset")
    if rows < 4 or rows > 10_000_000:
        raise InputError(f"--rows(={rows}) must be an integer in 4..10000000")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise InputError(f"PATH(={path!r}) cannot be created: {exc.strerror}") from None
    try:
        last = write_demo(staging, rows=rows, seed=seed)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    click.echo(f"wrote versions 0..{last} of a click log to {path}")


def _read_parquet(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except FileNotFoundError:
        raise InputError(f"--from(={path!r}) does not exist") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"--from(={path!r}) is not a readable Parquet file "
                         f"({' '.join(str(exc).split())[:120]})") from None


@dataset_group.command("commit")
@click.argument("path")
@click.option("--from", "source", required=True, help="Parquet file with the new rows.")
@click.option("--mode", default="append", show_default=True,
              type=click.Choice(versions.MODES), help="Add the rows, or replace them all.")
@click.option("--force", is_flag=True,
              help="Allow a refused schema change (drop/retype a column): rewrites the schema.")
@click.option("-m", "--message", default=None, help="What this version is.")
def commit_command(path: str, source: str, mode: str, force: bool, message: str | None) -> None:
    """Commit the rows of a Parquet file as a new version of the dataset at PATH."""
    version = versions.commit(Path(path), _read_parquet(source), mode=mode, force=force,
                              message=message)
    click.echo(f"{path}: committed version {version}")


@dataset_group.command("log")
@click.argument("path")
@JSON
def log_command(path: str, as_json: bool) -> None:
    """Every version of the dataset, oldest first."""
    entries = versions.history(_dataset(path))
    rows: list[dict[str, Any]] = [{"version": e.version, "timestamp_ms": e.timestamp_ms, "operation": e.operation,
             "rows_added": e.rows_added, "message": e.message} for e in entries]
    if as_json:
        _emit({"dataset": path, "versions": rows})
        return
    from datetime import UTC, datetime

    from mlfleet.report.terminal import print_table

    print_table(["version", "committed (UTC)", "operation", "rows added", "message"],
                [[str(r["version"]),
                  datetime.fromtimestamp(r["timestamp_ms"] / 1000, UTC).strftime("%F %T"),
                  r["operation"], "" if r["rows_added"] is None else f"{r['rows_added']:,}",
                  r["message"] or ""] for r in rows], title=f"dataset {path}")


def _schema_rows(schema: Any) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


@dataset_group.command("show")
@click.argument("path")
@click.option("--version", "version", default=None, type=int, help="Version (default: latest).")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(0, 1000),
              help="Rows to print.")
@JSON
def show_command(path: str, version: int | None, limit: int, as_json: bool) -> None:
    """Schema, row count and first rows of a version (time travel)."""
    dataset = _dataset(path)
    table = versions.read_version(dataset, version)
    shown = versions.latest_version(dataset) if version is None else version
    doc = {"dataset": path, "version": shown, "rows": table.num_rows,
           "schema": _schema_rows(table.schema), "head": table.slice(0, limit).to_pylist()}
    if as_json:
        _emit(doc)
        return
    from mlfleet.report.terminal import print_table

    print_table(["column", "type", "nullable"],
                [[c["name"], c["type"], "yes" if c["nullable"] else "no"] for c in doc["schema"]],
                title=f"{path} version {shown}: {table.num_rows:,} rows")
    if doc["head"]:
        names = table.column_names
        print_table(names, [[_cell(r[n]) for n in names] for r in doc["head"]])


def _cell(value: object) -> str:
    return "null" if value is None else (f"{value:.4g}" if isinstance(value, float) else
                                         str(value))


@dataset_group.command("diff")
@click.argument("path")
@click.option("--from", "old", required=True, type=int, help="Older version.")
@click.option("--to", "new", default=None, type=int, help="Newer version (default: latest).")
@JSON
def diff_command(path: str, old: int, new: int | None, as_json: bool) -> None:
    """Schema change and row counts between two versions (by the evolution rule)."""
    dataset = _dataset(path)
    new = versions.latest_version(dataset) if new is None else new
    change = versions.schema_change(versions.version_schema(dataset, old),
                                    versions.version_schema(dataset, new))
    rows = {v: versions.read_version(dataset, v).num_rows for v in (old, new)}
    doc = {"dataset": path, "from": old, "to": new, "rows_from": rows[old], "rows_to": rows[new],
           "added_nullable": list(change.added_nullable),
           "added_required": list(change.added_required), "dropped": list(change.dropped),
           "retyped": [{"column": c, "from": a, "to": b} for c, a, b in change.retyped],
           "compatible": change.compatible}
    if as_json:
        _emit(doc)
        return
    added = ", ".join(change.added_nullable) or "none"
    click.echo(f"{path}: version {old} -> {new}: rows {rows[old]:,} -> {rows[new]:,}; "
               f"nullable columns added: {added}; schema change "
               + ("compatible" if change.compatible else f"refused: {change.describe()}"))


@dataset_group.command("quality")
@click.argument("path")
@click.option("--version", "version", default=None, type=int, help="Version (default: latest).")
@click.option("--reference", "reference", default=None, type=int,
              help="Reference version (default: the one before; none for version 0).")
@click.option("--null-rate-max", default=0.05, show_default=True, type=float)
@click.option("--psi-max", default=0.25, show_default=True, type=float)
@click.option("--ks-max", default=0.1, show_default=True, type=float)
@click.option("--strict", is_flag=True, help="Exit 3 when a check fails (a CI gate).")
@JSON
def quality_command(path: str, version: int | None, reference: int | None,
                    null_rate_max: float, psi_max: float, ks_max: float, strict: bool,
                    as_json: bool) -> None:
    """Schema, null rates and drift (PSI, KS) of a version against a reference version."""
    limits = Thresholds(null_rate_max=null_rate_max, psi_max=psi_max, ks_max=ks_max)
    dataset = _dataset(path)
    version = versions.latest_version(dataset) if version is None else version
    table = versions.read_version(dataset, version)
    reference = version - 1 if reference is None and version > 0 else reference
    ref_table = None if reference is None else versions.read_version(dataset, reference)
    report = check_quality(table, reference=ref_table, thresholds=limits)
    doc = quality_payload(report, dataset=path, version=version, reference=reference)
    if as_json:
        _emit(doc)
    else:
        from mlfleet.storage.datasets.quality_report import render_quality

        render_quality(doc)
    if strict and not report.passed:
        raise ConstraintViolation(f"{path} version {version}: {len(report.problems)} quality "
                                  f"problem(s), the first: {report.problems[0]}")


def quality_payload(report: QualityReport, *, dataset: str, version: int,
                    reference: int | None) -> dict[str, Any]:
    """The ``--json`` document of ``quality``."""
    limits = report.thresholds
    return {"dataset": dataset, "version": version, "reference_version": reference,
            "rows": report.rows, "reference_rows": report.reference_rows,
            "thresholds": {"null_rate_max": limits.null_rate_max, "psi_max": limits.psi_max,
                           "ks_max": limits.ks_max},
            "columns": [{"name": c.name, "type": c.type, "null_rate": c.null_rate,
                         "psi": c.psi, "ks_d": c.ks_d, "ks_p": c.ks_p,
                         "problems": list(c.problems)} for c in report.columns],
            "problems": report.problems, "passed": report.passed}
