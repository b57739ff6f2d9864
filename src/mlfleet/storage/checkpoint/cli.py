"""``mlfleet storage checkpoint``: checkpoint size, write time and storage cost per model.

Bytes from size.py (weights + fp32 master + optimizer moments), write time at a bandwidth
(``--write-bw``, default the medium's catalog write bandwidth), bytes written and stored
per month under retention, priced with the medium's catalog ``cost_usd_per_gb_month``.
``--changed-rows`` models incremental checkpoints of an embedding-dominated recommender.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from mlfleet import units
from mlfleet.catalog.types import StorageMedium, Workload
from mlfleet.checks import fraction, positive_int

from .cost_model import CheckpointCost, Incremental, checkpoint_cost
from .errors import CheckpointError
from .size import OPTIMIZER_MOMENTS, PRECISION_BYTES, CheckpointSize, checkpoint_bytes


def _positive(text: str, target: str, option: str) -> float:
    value = units.parse_quantity(text, target)
    if not value > 0:
        raise CheckpointError(f"{option}(={text!r}) must be > 0")
    return value


def _incremental(w: Workload, changed_rows: float | None, full_every: int) -> Incremental | None:
    if changed_rows is None:
        return None
    rows, dim = w.shape.get("rows_total"), w.shape.get("embedding_dim")
    if rows is None or dim is None:
        raise CheckpointError(f"--changed-rows needs embedding tables; workload {w.name!r} has "
                              "no shape.rows_total/embedding_dim (try DLRM-DCNv2)")
    return Incremental(embedding_params=rows * dim, embedding_dim=int(dim),
                       changed_rows_fraction=changed_rows, full_every=full_every)


def _row(name: str, size: CheckpointSize, cost: CheckpointCost) -> dict[str, Any]:
    return {"workload": name, "size": size.as_dict(), **asdict(cost), "keeps_up": cost.keeps_up}


def _print(rows: list[dict[str, Any]], medium: str) -> None:
    from mlfleet.report.terminal import print_table

    b, d = units.format_bytes, units.format_duration
    usd = [r["storage_usd_per_month"] for r in rows]
    print_table(["workload", "checkpoint", "B/param", "write", "incremental", "written/month",
                 "stored", "$/month"],
                [[r["workload"], b(r["full_bytes"]), f"{r['size']['bytes_per_param']:.3g}",
                  d(r["full_write_s"]),
                  "" if r["delta_bytes"] == r["full_bytes"] else
                  f"{b(r['delta_bytes'])} in {d(r['delta_write_s'])}",
                  b(r["written_bytes_per_month"]), b(r["stored_bytes"]),
                  "n/a" if u is None else f"{u:,.0f}"] for r, u in zip(rows, usd, strict=True)],
                title=f"Checkpoint cost on {medium} (model)")
    for r in rows:
        if not r["keeps_up"]:
            click.echo(f"{r['workload']}: a full checkpoint takes longer than --every; "
                       "saves would pile up")


@click.command("checkpoint")
@click.option("--workload", "-w", "workloads", required=True, help="Comma list of catalog workloads.")
@click.option("--precision", type=click.Choice(list(PRECISION_BYTES)), default="bf16",
              show_default=True, help="Training precision of the weights.")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_MOMENTS)), default="adam",
              show_default=True)
@click.option("--medium", default="parallel-fs", show_default=True,
              help="Catalog storage medium: write bandwidth and $/GB-month.")
@click.option("--write-bw", help="Sustained write bandwidth, e.g. 100GB/s (default: the medium's).")
@click.option("--every", "every", default="1h", show_default=True, help="Checkpoint interval.")
@click.option("--keep-last", type=int, default=3, show_default=True)
@click.option("--keep-every", type=int, default=0, show_default=True,
              help="Also keep every M-th checkpoint for good (0: none).")
@click.option("--changed-rows", type=float, help="Incremental: fraction of embedding rows "
              "changed between checkpoints (e.g. 0.05).")
@click.option("--full-every", type=int, default=10, show_default=True,
              help="Incremental: a full checkpoint every N checkpoints.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def checkpoint_command(workloads: str, precision: str, optimizer: str, medium: str,
                       write_bw: str | None, every: str, keep_last: int, keep_every: int,
                       changed_rows: float | None, full_every: int, as_json: bool) -> None:
    """Checkpoint size, write time, bytes written and stored per month, and their cost."""
    positive_int("--keep-last", keep_last, error=CheckpointError)
    positive_int("--keep-every", keep_every, minimum=0, error=CheckpointError)
    positive_int("--full-every", full_every, error=CheckpointError)
    if changed_rows is not None:
        fraction("--changed-rows", changed_rows, error=CheckpointError)
    spec = StorageMedium.from_name(medium)
    bw = spec.write_bw_bytes_per_s if write_bw is None else _positive(write_bw, "bytes_per_s",
                                                                      "--write-bw")
    interval_s = _positive(every, "s", "--every")
    rows = []
    for name in [n.strip() for n in workloads.split(",") if n.strip()]:
        w = Workload.from_name(name)
        size = checkpoint_bytes(w, precision=precision, optimizer=optimizer)
        cost = checkpoint_cost(size, write_bw_bytes_per_s=bw, interval_s=interval_s,
                               keep_last=keep_last, keep_every=keep_every,
                               usd_per_gb_month=spec.usd_per_gb_month,
                               incremental=_incremental(w, changed_rows, full_every))
        rows.append(_row(w.name, size, cost))
    if not rows:
        raise CheckpointError(f"--workload(={workloads!r}) names no workload")
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "model", "medium": spec.name, "checkpoints": rows})
        return
    _print(rows, spec.name)
