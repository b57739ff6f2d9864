"""Infrastructure tables: FLOP/s per watt, memory-bandwidth use by model type, cost per PFLOP.

Every number is computed by :mod:`mlfleet.infra.power.efficiency` and
:mod:`mlfleet.infra.power.bandwidth_use` on the catalog's datasheet values.
"""

from __future__ import annotations

from mlfleet import catalog
from mlfleet.book.table import BookTable, CatalogInput, Cell, Column

PRECISION = "bf16"
"""Precision of the dense peaks the accelerator tables compare."""
BANDWIDTH_ACCELERATOR = "H100-SXM"
"""The chip the bandwidth-use table runs every model type on."""


def _inputs(names: list[str], paths: tuple[str, ...]) -> tuple[CatalogInput, ...]:
    out = []
    for name in names:
        have = catalog.get(name, kind="accelerator").values
        out.append(CatalogInput(entry=name, paths=tuple(p for p in paths if p in have)))
    return tuple(out)


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value / scale


def flops_per_watt() -> BookTable:
    """Peak dense FLOP/s per watt of TDP, best first (``mlfleet infra accelerators``)."""
    from mlfleet.infra.power.efficiency import efficiency_table

    rows = efficiency_table(PRECISION)
    body: list[tuple[Cell, ...]] = [
        (r.name, str(r.year or "–"), _scaled(r.peak_flops_per_s, 1e12), r.tdp_w,
         _scaled(r.flops_per_w, 1e12), _scaled(r.hbm_bw_bytes_per_s, 1e12)) for r in rows]
    return BookTable(
        id="infra.flops-per-watt",
        title=f"Peak {PRECISION} FLOP/s per watt across accelerators",
        columns=(Column(name="accelerator"), Column(name="year"),
                 Column(name=f"dense {PRECISION} peak", unit="TFLOP/s", fidelity="published"),
                 Column(name="TDP", unit="W", fidelity="published"),
                 Column(name="peak per watt", unit="TFLOP/s/W", fidelity="model"),
                 Column(name="HBM bandwidth", unit="TB/s", fidelity="published")),
        rows=tuple(body),
        inputs=_inputs([r.name for r in rows], (f"flops_per_s.{PRECISION}", "tdp_w",
                                                "hbm_bw_bytes_per_s")),
        notes=("Model: peak per watt = dense peak / TDP (mlfleet.infra.power.efficiency); a "
               "datasheet ceiling, multiply by a job's MFU for delivered FLOP/s per watt.",
               "– : the vendor publishes no TDP for the chip (TPU v5e/v5p/v6e, one GB200 GPU)."))


def cost_per_pflop() -> BookTable:
    """USD per PFLOP/s of peak, to buy and to rent, at both ends of the catalog's price range."""
    from mlfleet.infra.power.efficiency import efficiency_table

    rows = efficiency_table(PRECISION)

    def ends(pair: tuple[float, float] | None) -> tuple[Cell, Cell]:
        return (None, None) if pair is None else pair

    rows = [r for r in rows if r.purchase_usd_per_pflops or r.cloud_usd_per_pflops_h]
    body = [(r.name, *ends(r.purchase_usd_per_pflops), *ends(r.cloud_usd_per_pflops_h))
            for r in rows]
    return BookTable(
        id="infra.cost-per-pflop",
        title=f"Cost per PFLOP/s of dense {PRECISION} peak: purchase and cloud rental",
        columns=(Column(name="accelerator"),
                 Column(name="purchase, low", unit="USD per PFLOP/s", fidelity="model"),
                 Column(name="purchase, high", unit="USD per PFLOP/s", fidelity="model"),
                 Column(name="cloud, low", unit="USD per PFLOP/s-hour", fidelity="model"),
                 Column(name="cloud, high", unit="USD per PFLOP/s-hour", fidelity="model")),
        rows=tuple(body),
        inputs=_inputs([r.name for r in rows], (
            f"flops_per_s.{PRECISION}", "price.purchase_usd_low", "price.purchase_usd_high",
            "price.cloud_usd_per_h_low", "price.cloud_usd_per_h_high")),
        notes=("Model: price / (dense peak / 10^15) (mlfleet.infra.power.efficiency); prices "
               "are public ranges, indicative only.",
               "Chips without any public price in the catalog are left out; – : no such "
               "price."))


def memory_bandwidth_use() -> BookTable:
    """Share of peak HBM bandwidth and of peak FLOP/s one step keeps busy, by model type."""
    from mlfleet.infra.power.bandwidth_use import bandwidth_table

    rows = bandwidth_table(accelerator=BANDWIDTH_ACCELERATOR, precision=PRECISION)
    body = [(r.model_type, r.workload, r.batch, r.arithmetic_intensity, r.bound,
             r.bandwidth_utilisation, r.compute_utilisation) for r in rows]
    workloads = sorted({r.workload for r in rows})
    return BookTable(
        id="infra.memory-bandwidth-use",
        title=f"Memory-bandwidth utilisation by model type on {BANDWIDTH_ACCELERATOR} "
              f"({PRECISION}, roofline)",
        columns=(Column(name="model type"), Column(name="workload"), Column(name="batch"),
                 Column(name="arithmetic intensity", unit="FLOP/B", fidelity="model"),
                 Column(name="bound"),
                 Column(name="HBM bandwidth used", unit="fraction of peak", fidelity="model"),
                 Column(name="compute used", unit="fraction of peak", fidelity="model")),
        rows=tuple(body),
        inputs=(*_inputs([BANDWIDTH_ACCELERATOR], (f"flops_per_s.{PRECISION}",
                                                   "hbm_bw_bytes_per_s")),
                *(CatalogInput(entry=w) for w in workloads)),
        notes=("Model: roofline time = max(FLOP / peak, bytes / bandwidth) with compulsory "
               "bytes (Williams et al., CACM 2009); bandwidth used = min(1, ridge / intensity) "
               "(mlfleet.infra.power.bandwidth_use). Upper bounds on what real kernels reach.",
               "cnn-conv is ResNet-50's conv3_x 3x3 convolution (He et al., CVPR 2016, "
               "Table 1); llm-decode reads the weights and KV cache every step (Pope et al. "
               "2022)."))
