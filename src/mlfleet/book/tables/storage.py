"""Storage tables: I/O bandwidth by model type, hot/warm/cold cost, latency by access pattern.

Every number comes from :mod:`mlfleet.storage.io_budget`, :mod:`mlfleet.storage.tiers` and
:mod:`mlfleet.storage.latency` (``mlfleet storage io|tiers|latency`` with their defaults).
"""

from __future__ import annotations

from mlfleet import catalog
from mlfleet.book.table import BookTable, CatalogInput, Cell, Column

ACCELERATOR = "H100-SXM"
PRECISION = "bf16"
GPUS = 512
"""GPUs of the training job whose read bandwidth the I/O table sizes."""
MFU = 0.4
"""Compute efficiency that sets the job's samples per second."""
MEDIUM = "parallel-fs"
"""Storage the I/O table's job reads from."""
DATASET_BYTES = 100e12
EPOCHS_PER_MONTH = 4.0
OBJECT_BYTES = 100e6
LATENCY_MEDIA = ("NVMe-Gen4", "HDD", "parallel-fs", "hdfs", "object-storage")


def io_bandwidth() -> BookTable:
    """Read bandwidth a training job of each catalog workload needs, and the storage units."""
    from mlfleet.catalog.types import StorageMedium, Workload
    from mlfleet.infra.roofline import Device
    from mlfleet.storage.io_budget import io_budget, stored_bytes_per_unit, units_per_s

    peak = Device.from_accelerator(ACCELERATOR, PRECISION).peak_flops_per_s
    medium = StorageMedium.from_name(MEDIUM)
    names = catalog.names("workload")
    body: list[tuple[Cell, ...]] = []
    for name in names:
        w = Workload.from_name(name)
        rate = units_per_s(gpus=GPUS, peak_flops_per_s=peak, mfu=MFU,
                           flop_per_unit=w.fwd_flop + w.bwd_flop)
        b = io_budget(workload=w, units_per_s=rate, bytes_per_unit=stored_bytes_per_unit(w),
                      medium=medium)
        body.append((w.name, w.family, w.unit, b.units_per_s, b.bytes_per_unit,
                     b.read_bw_bytes_per_s / 1e9, b.read_bw_bytes_per_s / GPUS / 1e6,
                     b.medium_units, b.bound_by))
    return BookTable(
        id="storage.io-bandwidth",
        title=f"I/O bandwidth by model type: {GPUS} x {ACCELERATOR} ({PRECISION}) training at "
              f"MFU {MFU:g}, reading from {MEDIUM}",
        columns=(Column(name="workload"), Column(name="family"), Column(name="unit"),
                 Column(name="units per second", unit="1/s", fidelity="model"),
                 Column(name="stored bytes per unit", unit="B", fidelity="model"),
                 Column(name="read bandwidth", unit="GB/s", fidelity="model"),
                 Column(name="per GPU", unit="MB/s", fidelity="model"),
                 Column(name=f"{MEDIUM} units needed", fidelity="model"),
                 Column(name="bound by")),
        rows=tuple(body),
        inputs=(CatalogInput(entry=ACCELERATOR, paths=(f"flops_per_s.{PRECISION}",)),
                CatalogInput(entry=MEDIUM), *(CatalogInput(entry=n) for n in names)),
        notes=("Model: read bandwidth = units/s x stored bytes per unit, units/s = GPUs x MFU x "
               "peak / (forward + backward FLOP per unit) (Mohan et al., Analyzing and "
               "Mitigating Data Stalls in DNN Training, VLDB 2021; mlfleet.storage.io_budget).",
               "LLM tokens are stored as token ids (2 or 4 bytes)."))


def tier_cost() -> BookTable:
    """A month of a dataset in each tier: capacity, requests, retrieval."""
    from mlfleet.storage import tiers as tiers_model

    tiers = [tiers_model.Tier.from_name(n) for n in tiers_model.DEFAULT_TIERS]
    costs = tiers_model.dataset_costs(tiers, dataset_bytes=DATASET_BYTES,
                                      epochs_per_month=EPOCHS_PER_MONTH, object_bytes=OBJECT_BYTES)
    colder = [*(tiers_model.break_even_reads_per_month(a, b, OBJECT_BYTES)
                for a, b in zip(tiers, tiers[1:], strict=False)), None]
    body = [(c.tier, c.storage_usd, c.request_usd, c.retrieval_usd, c.total_usd, even)
            for c, even in zip(costs, colder, strict=True)]
    return BookTable(
        id="storage.tier-cost",
        title=f"Storage cost by tier (hot/warm/cold): {DATASET_BYTES / 1e12:g} TB read "
              f"{EPOCHS_PER_MONTH:g} times a month in {OBJECT_BYTES / 1e6:g} MB objects",
        columns=(Column(name="tier"),
                 Column(name="capacity", unit="USD per month", fidelity="model"),
                 Column(name="requests", unit="USD per month", fidelity="model"),
                 Column(name="retrieval", unit="USD per month", fidelity="model"),
                 Column(name="total", unit="USD per month", fidelity="model"),
                 Column(name="reads per object per month above which it beats the next colder "
                        "tier", unit="1/month", fidelity="model")),
        rows=tuple(body),
        inputs=tuple(CatalogInput(entry=n) for n in tiers_model.DEFAULT_TIERS),
        notes=("Model: capacity x price per GB-month + reads x (request price + bytes x "
               "retrieval price) (mlfleet.storage.tiers; S3 pricing terms).",
               "– : the coldest tier has no colder one to compare with."))


def access_latency() -> BookTable:
    """One read, split into metadata lookup, first byte and transfer, per pattern and medium."""
    from mlfleet.catalog.types import StorageMedium
    from mlfleet.storage.latency import table

    rows = table([StorageMedium.from_name(n) for n in LATENCY_MEDIA])
    body = [(r.pattern, r.medium, r.request_bytes / 1e3, r.metadata_s * 1e3,
             r.first_byte_s * 1e3, r.transfer_s * 1e3, r.total_s * 1e3,
             r.bw_bytes_per_s / 1e6) for r in rows]
    return BookTable(
        id="storage.access-latency",
        title="Latency of one read by access pattern and medium",
        columns=(Column(name="pattern"), Column(name="medium"),
                 Column(name="request", unit="kB"),
                 Column(name="metadata", unit="ms", fidelity="model"),
                 Column(name="first byte", unit="ms", fidelity="model"),
                 Column(name="transfer", unit="ms", fidelity="model"),
                 Column(name="total", unit="ms", fidelity="model"),
                 Column(name="one stream", unit="MB/s", fidelity="model")),
        rows=tuple(body),
        inputs=tuple(CatalogInput(entry=n, paths=("latency_s", "read_bw_bytes_per_s"))
                     for n in LATENCY_MEDIA),
        notes=("Model: metadata (files opened x one medium access; none for an object GET) + "
               "first-byte latency + bytes / read bandwidth (mlfleet.storage.latency).",))
