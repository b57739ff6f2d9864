"""Accelerators side by side: peak FLOP/s per watt and cost per PFLOP, from the catalog.

Fidelity: model (exact arithmetic on sourced datasheet values):

    flops_per_w              = peak_flops_per_s[precision] / tdp_w
    purchase_usd_per_pflops  = purchase_usd / (peak_flops_per_s / 1e15)
    cloud_usd_per_pflops_h   = cloud_usd_per_h / (peak_flops_per_s / 1e15)

Peaks are dense (no 2:4 sparsity), TDP is the chip's (or module's) maximum board power:
FLOP/s per watt is the datasheet ceiling, not what a job achieves (multiply by MFU for
that). A chip without a published TDP (TPU v5e/v5p/v6e, a GB200 GPU) has no FLOP/s per
watt; a chip without a public price has no cost per PFLOP. Both are ``None`` in a row and
raise InputError from the scalar functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfleet import catalog
from mlfleet.catalog.types import PRECISIONS, Accelerator
from mlfleet.checks import one_of
from mlfleet.errors import InputError

PRICE_KINDS = ("purchase", "cloud")
"""What a cost per PFLOP is paid with: the chip's purchase price or its cloud hour."""
BOUNDS = ("low", "high")
"""Which end of the catalog's price range."""


@dataclass(frozen=True, kw_only=True)
class EfficiencyRow:
    """One accelerator at one precision: peak, power, price and their ratios."""

    name: str
    vendor: str | None
    year: int | None
    precision: str
    peak_flops_per_s: float | None
    """None where the chip defines no peak at this precision."""
    tdp_w: float | None
    hbm_bw_bytes_per_s: float
    flops_per_w: float | None
    bytes_per_flop: float | None
    """Memory bandwidth per peak FLOP/s (a machine balance; lower = more compute-rich)."""
    purchase_usd_per_pflops: tuple[float, float] | None
    """USD per PFLOP/s of peak, (low, high) of the purchase price range."""
    cloud_usd_per_pflops_h: tuple[float, float] | None
    """USD per hour of one PFLOP/s of peak, (low, high) of the on-demand range."""
    sources: dict[str, str]
    """Field -> citation (peak, tdp, purchase, cloud)."""


def _peak(acc: Accelerator, precision: str) -> float:
    one_of("precision", precision, PRECISIONS)
    return acc.flops_per_s(precision)


def flops_per_watt(accelerator: str, precision: str) -> float:
    """Peak FLOP/s per watt of TDP; CatalogError for an unknown chip or precision,
    InputError when the chip has no published TDP."""
    acc = Accelerator.from_name(accelerator)
    peak = _peak(acc, precision)
    if acc.tdp_w is None:
        raise InputError(f"{acc.name} has no published TDP, so no FLOP/s per watt")
    return peak / acc.tdp_w


def cost_per_pflop(accelerator: str, precision: str, *, price: str = "purchase",
                   bound: str = "low") -> float:
    """USD per PFLOP/s of peak (``price='purchase'``) or USD per PFLOP/s-hour (``'cloud'``).

    ``bound`` picks the low or high end of the catalog's price range. Raises CatalogError
    for an unknown chip or precision, InputError when the chip has no such price.
    """
    one_of("price", price, PRICE_KINDS)
    one_of("bound", bound, BOUNDS)
    acc = Accelerator.from_name(accelerator)
    pflops = _peak(acc, precision) / 1e15
    prices = acc.purchase_usd if price == "purchase" else acc.cloud_usd_per_h
    if prices is None:
        raise InputError(f"{acc.name} has no public {price} price in the catalog")
    return prices[BOUNDS.index(bound)] / pflops


def _per_pflops(prices: tuple[float, float] | None,
                peak: float | None) -> tuple[float, float] | None:
    if prices is None or peak is None:
        return None
    return (prices[0] / (peak / 1e15), prices[1] / (peak / 1e15))


def _sources(entry: catalog.Entry, precision: str) -> dict[str, str]:
    paths = {"peak": f"flops_per_s.{precision}", "tdp": "tdp_w",
             "purchase": "price.purchase_usd_low", "cloud": "price.cloud_usd_per_h_low"}
    return {k: entry.values[p].source for k, p in paths.items() if p in entry.values}


def efficiency_row(accelerator: str, precision: str) -> EfficiencyRow:
    """The full row for one chip; missing peaks, TDPs and prices are None, never guessed."""
    one_of("precision", precision, PRECISIONS)
    entry = catalog.get(accelerator, kind="accelerator")
    acc = Accelerator.from_name(entry.name)
    peak = acc.peak_flops_per_s.get(precision)
    year = entry.get("year")
    return EfficiencyRow(
        name=acc.name, vendor=entry.get("vendor"), year=int(year) if year is not None else None,
        precision=precision, peak_flops_per_s=peak, tdp_w=acc.tdp_w,
        hbm_bw_bytes_per_s=acc.hbm_bw_bytes_per_s,
        flops_per_w=peak / acc.tdp_w if peak is not None and acc.tdp_w else None,
        bytes_per_flop=acc.hbm_bw_bytes_per_s / peak if peak else None,
        purchase_usd_per_pflops=_per_pflops(acc.purchase_usd, peak),
        cloud_usd_per_pflops_h=_per_pflops(acc.cloud_usd_per_h, peak),
        sources=_sources(entry, precision))


def efficiency_table(precision: str = "bf16", *,
                     names: list[str] | None = None) -> list[EfficiencyRow]:
    """Rows for ``names`` (default: every catalog accelerator defining ``precision``),
    best FLOP/s per watt first, chips without a TDP last."""
    chosen = names if names is not None else catalog.names("accelerator")
    rows = [efficiency_row(n, precision) for n in chosen]
    if names is None:
        rows = [r for r in rows if r.peak_flops_per_s is not None]
    return sorted(rows, key=lambda r: (r.flops_per_w is None, -(r.flops_per_w or 0.0)))
