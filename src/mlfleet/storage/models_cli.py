"""``mlfleet storage io|tiers|latency|small-files``: the chapter's models as tables.

Every number comes from the catalog (``mlfleet catalog show NAME`` gives each source).
``--json`` prints a stable JSON document instead of tables; fidelity is 'model' throughout.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from mlfleet import catalog, units
from mlfleet.catalog.types import StorageMedium, Workload
from mlfleet.storage import latency as latency_model
from mlfleet.storage import small_files as small_files_model
from mlfleet.storage import tiers as tiers_model
from mlfleet.storage.io_budget import (
    StorageModelError,
    io_budget,
    stored_bytes_per_unit,
    units_per_s,
)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _quantity(text: str, target: str, option: str, *, zero_ok: bool = False) -> float:
    value = units.parse_quantity(text, target)
    if not (value > 0 or (zero_ok and value == 0)):
        raise StorageModelError(f"{option}(={text!r}) must be {'>= 0' if zero_ok else '> 0'}")
    return value


def _table(headers: list[str], rows: list[list[Any]], title: str) -> None:
    from mlfleet.report.terminal import print_table

    print_table(headers, rows, title=title)


def _emit(payload: dict[str, Any]) -> None:
    from mlfleet.cli import emit_json

    emit_json({"fidelity": "model", **payload})


def _rate(value: float) -> str:
    return units.format_rate(value)


# --------------------------------------------------------------------------- io


def _budgets(names: list[str], *, accelerator: str, precision: str, gpus: int, mfu: float,
             medium: StorageMedium, decode_s: float) -> list[dict[str, Any]]:
    from mlfleet.infra.roofline import Device

    peak = Device.from_accelerator(accelerator, precision).peak_flops_per_s
    out = []
    for name in names:
        w = Workload.from_name(name)
        rate = units_per_s(gpus=gpus, peak_flops_per_s=peak, mfu=mfu,
                           flop_per_unit=w.fwd_flop + w.bwd_flop)
        budget = io_budget(workload=w, units_per_s=rate, bytes_per_unit=stored_bytes_per_unit(w),
                           medium=medium, decode_s_per_unit=0.0 if w.unit == "token" else decode_s)
        out.append({**asdict(budget), "medium_units": budget.medium_units,
                    "bound_by": budget.bound_by,
                    "read_bw_bytes_per_s_per_gpu": budget.read_bw_bytes_per_s / gpus})
    return out


@click.command("io")
@click.option("--workload", "-w", "workloads", default=None,
              help="Comma list of catalog workloads (default: every one).")
@click.option("--accelerator", "-a", default="H100", show_default=True)
@click.option("--precision", default="bf16", show_default=True)
@click.option("--gpus", default=8, show_default=True, type=int, help="GPUs training the job.")
@click.option("--mfu", default=0.4, show_default=True, type=float,
              help="Compute efficiency that sets samples/s (0 < mfu <= 1).")
@click.option("--medium", default="parallel-fs", show_default=True,
              help="Catalog storage medium the data is read from.")
@click.option("--decode", default="0s", show_default=True,
              help="CPU time to decode/augment one sample (e.g. 3ms); not applied to tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def io_command(workloads: str | None, accelerator: str, precision: str, gpus: int, mfu: float,
               medium: str, decode: str, as_json: bool) -> None:
    """I/O bandwidth each model type needs (samples/s x bytes/sample) vs a storage medium."""
    if gpus < 1:
        raise StorageModelError(f"--gpus(={gpus}) must be >= 1")
    if not 0 < mfu <= 1:
        raise StorageModelError(f"--mfu(={mfu}) must be in (0, 1]")
    names = _list(workloads) if workloads is not None else catalog.names("workload")
    if not names:
        raise StorageModelError(f"--workload(={workloads!r}) names no workload")
    store = StorageMedium.from_name(medium)
    rows = _budgets(names, accelerator=accelerator, precision=precision, gpus=gpus, mfu=mfu,
                    medium=store, decode_s=_quantity(decode, "s", "--decode", zero_ok=True))
    if as_json:
        _emit({"accelerator": accelerator, "precision": precision, "gpus": gpus, "mfu": mfu,
               "medium": store.name, "rows": rows})
        return
    _table(["workload", "family", "units/s", "bytes/unit", "read bw", "per GPU", "requests/s",
            "decode cores", f"{store.name} units", "bound by"],
           [[r["workload"], r["family"], f"{r['units_per_s']:.3g} {r['unit']}s",
             units.format_bytes(r["bytes_per_unit"]), _rate(r["read_bw_bytes_per_s"]),
             _rate(r["read_bw_bytes_per_s_per_gpu"]), f"{r['requests_per_s']:.3g}",
             f"{r['decode_cores']:.3g}", r["medium_units"], r["bound_by"]] for r in rows],
           f"I/O bandwidth by model type: {gpus} x {accelerator} {precision} at MFU {mfu:g} (model)")


# --------------------------------------------------------------------------- tiers


@click.command("tiers")
@click.option("--dataset", default="100TB", show_default=True, help="Dataset size.")
@click.option("--epochs-per-month", default=4.0, show_default=True, type=float,
              help="Full reads of the dataset per month.")
@click.option("--object-size", default="100MB", show_default=True,
              help="Bytes per object read (a shard, a file).")
@click.option("--tiers", "names", default=",".join(tiers_model.DEFAULT_TIERS), show_default=True,
              help="Comma list of catalog media with a capacity price, hot first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tiers_command(dataset: str, epochs_per_month: float, object_size: str, names: str,
                  as_json: bool) -> None:
    """Hot/warm/cold cost of a dataset per month; break-even reads; age-based tiering."""
    if not 0 <= epochs_per_month < float("inf"):
        raise StorageModelError(f"--epochs-per-month(={epochs_per_month}) must be >= 0 and finite")
    size = _quantity(dataset, "bytes", "--dataset")
    obj = _quantity(object_size, "bytes", "--object-size")
    tiers = [tiers_model.Tier.from_name(n) for n in _list(names)]
    if len(tiers) < 2:
        raise StorageModelError(f"--tiers(={names!r}) must name at least two tiers")
    costs = tiers_model.dataset_costs(tiers, dataset_bytes=size, epochs_per_month=epochs_per_month,
                                      object_bytes=obj)
    even = [{"hot": a.name, "cold": b.name,
             "reads_per_object_per_month": tiers_model.break_even_reads_per_month(a, b, obj)}
            for a, b in zip(tiers, tiers[1:], strict=False)]
    policy = tiers_model.TieringPolicy(tiers=tuple(tiers[:3]),
                                       idle_s=tiers_model.INTELLIGENT_TIERING_IDLE_S[:len(tiers[:3]) - 1])
    auto = _auto_rows(policy, tiers, obj)
    if as_json:
        _emit({"dataset_bytes": size, "epochs_per_month": epochs_per_month, "object_bytes": obj,
               "costs": [{**asdict(c), "total_usd": c.total_usd} for c in costs],
               "break_even": even, "auto_tiering": auto})
        return
    _show_tiers(costs, even, auto, size=size, epochs=epochs_per_month, obj=obj)


def _auto_rows(policy: tiers_model.TieringPolicy, tiers: list[tiers_model.Tier],
               obj: float) -> list[dict[str, Any]]:
    rates = [0.01, 0.1, 1.0, 10.0]
    auto = tiers_model.tiered_cost_per_month(policy, object_bytes=obj, reads_per_month=rates)
    by_reads = tiers_model.FrequencyPolicy(
        tiers=policy.tiers, window_s=tiers_model.MONTH_S,
        min_reads=tiers_model.FREQUENCY_MIN_READS[-(len(policy.tiers) - 1):])
    freq = tiers_model.frequency_cost_per_month(by_reads, object_bytes=obj, reads_per_month=rates)
    best = tiers_model.cheapest_tier(tiers, object_bytes=obj, reads_per_month=rates)
    return [{"reads_per_month": k, "auto_usd": float(a), "frequency_usd": float(f),
             "frequency_min_reads_per_30d": list(by_reads.min_reads),
             "all_hot_usd": obj / tiers_model.GB * tiers[0].usd_per_gb_month
             + k * float(tiers[0].read_usd(obj)),
             "oracle_tier": tiers[int(i)].name,
             "oracle_usd": obj / tiers_model.GB * tiers[int(i)].usd_per_gb_month
             + k * float(tiers[int(i)].read_usd(obj))}
            for k, a, f, i in zip(rates, auto, freq, best, strict=True)]


def _show_tiers(costs: list[tiers_model.TierCost], even: list[dict[str, Any]],
                auto: list[dict[str, Any]], *, size: float, epochs: float, obj: float) -> None:
    _table(["tier", "storage", "requests", "retrieval", "total / month"],
           [[c.tier, f"${c.storage_usd:,.2f}", f"${c.request_usd:,.2f}",
             f"${c.retrieval_usd:,.2f}", f"${c.total_usd:,.2f}"] for c in costs],
           f"{units.format_bytes(size)} read {epochs:g}x a month in "
           f"{units.format_bytes(obj)} objects (model)")
    _table(["hotter", "colder", "break-even reads / object / month"],
           [[e["hot"], e["cold"], f"{e['reads_per_object_per_month']:.3g}"] for e in even],
           "hotter tier is cheaper above")
    rule = " / ".join(f">= {m}" for m in auto[0]["frequency_min_reads_per_30d"])
    idle = " / ".join(f"{t / 86_400:g} d" for t in tiers_model.INTELLIGENT_TIERING_IDLE_S[
        :len(auto[0]["frequency_min_reads_per_30d"])])
    _table(["reads / month", "all hot", f"idle {idle}", f"reads in 30 d {rule}",
            "cheapest fixed tier"],
           [[f"{r['reads_per_month']:g}", f"${r['all_hot_usd']:.4g}", f"${r['auto_usd']:.4g}",
             f"${r['frequency_usd']:.4g}", f"${r['oracle_usd']:.4g} ({r['oracle_tier']})"]
            for r in auto],
           f"one {units.format_bytes(obj)} object a month: automatic tiering by age and by "
           "access frequency")


# --------------------------------------------------------------------------- latency


@click.command("latency")
@click.option("--media", default="NVMe-Gen4,HDD,parallel-fs,hdfs,object-storage",
              show_default=True, help="Comma list of catalog storage media.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def latency_command(media: str, as_json: bool) -> None:
    """Latency of one read by access pattern and medium: metadata, first byte, transfer."""
    names = _list(media)
    if not names:
        raise StorageModelError(f"--media(={media!r}) names no medium")
    rows = latency_model.table([StorageMedium.from_name(n) for n in names])
    if as_json:
        _emit({"rows": [{**asdict(r), "total_s": r.total_s, "bw_bytes_per_s": r.bw_bytes_per_s}
                        for r in rows]})
        return
    dur = units.format_duration
    _table(["pattern", "medium", "request", "metadata", "first byte", "transfer", "total",
            "one stream"],
           [[r.pattern, r.medium, units.format_bytes(r.request_bytes), dur(r.metadata_s),
             dur(r.first_byte_s), dur(r.transfer_s), dur(r.total_s), _rate(r.bw_bytes_per_s)]
            for r in rows], "latency breakdown by access pattern (model)")


# --------------------------------------------------------------------------- small files


@click.command("small-files")
@click.option("--medium", default="object-storage", show_default=True)
@click.option("--sizes", default="4KB,100KB,1MB,64MB,256MB", show_default=True,
              help="Comma list of file/object sizes.")
@click.option("--in-flight", default=64, show_default=True, type=int,
              help="Requests in flight (loader workers x their outstanding reads).")
@click.option("--dataset", default="1TB", show_default=True,
              help="Dataset size, for GET charges and NameNode heap.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def small_files_command(medium: str, sizes: str, in_flight: int, dataset: str,
                        as_json: bool) -> None:
    """Per-file and per-request overheads: delivered bandwidth, GET charges, NameNode heap."""
    if in_flight < 1:
        raise StorageModelError(f"--in-flight(={in_flight}) must be >= 1")
    path = small_files_model.path_of(medium)
    total = _quantity(dataset, "bytes", "--dataset")
    rows: list[dict[str, Any]] = []
    for text in _list(sizes) or [sizes]:
        size = _quantity(text, "bytes", "--sizes")
        bw = small_files_model.delivered_bw_bytes_per_s(path, file_bytes=size, in_flight=in_flight)
        rows.append({"file_bytes": size, "delivered_bw_bytes_per_s": bw,
                     "bound_by": small_files_model.bottleneck(path, file_bytes=size,
                                                              in_flight=in_flight),
                     "efficiency": small_files_model.efficiency(path, file_bytes=size,
                                                                in_flight=in_flight),
                     "get_usd_per_pass": small_files_model.get_requests_usd(
                         dataset_bytes=total, object_bytes=size),
                     "hdfs_namenode_heap_bytes": small_files_model.namenode_heap_bytes(
                         files=total / size, file_bytes=size)})
    if as_json:
        _emit({"medium": catalog.get(medium, kind="storage").name, "in_flight": in_flight,
               "dataset_bytes": total, "path": asdict(path), "rows": rows})
        return
    _table(["file size", "delivered", "bound by", "of large-file bw", "S3 GETs / pass",
            "HDFS NameNode heap"],
           [[units.format_bytes(r["file_bytes"]), _rate(r["delivered_bw_bytes_per_s"]),
             r["bound_by"], f"{r['efficiency']:.1%}", f"${r['get_usd_per_pass']:,.4g}",
             units.format_bytes(r["hdfs_namenode_heap_bytes"])] for r in rows],
           f"{units.format_bytes(total)} as files on {medium}, {in_flight} requests in flight "
           "(model)")
