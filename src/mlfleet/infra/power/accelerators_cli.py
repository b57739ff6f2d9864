"""``mlfleet infra accelerators``: FLOP/s per watt and cost per PFLOP across accelerator types."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import click

from mlfleet.catalog.types import PRECISIONS

if TYPE_CHECKING:
    from mlfleet.infra.power.efficiency import EfficiencyRow


@click.command("accelerators")
@click.option("--precision", "-p", type=click.Choice(PRECISIONS), default="bf16",
              show_default=True, help="Precision of the dense peak.")
@click.option("--accelerator", "-a", "names", multiple=True,
              help="Only these catalog accelerators (repeat); default: all defining the precision.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def accelerators_command(precision: str, names: tuple[str, ...], as_json: bool) -> None:
    """Accelerators side by side: peak FLOP/s per watt, cost per PFLOP/s, memory balance.

    Datasheet ceilings (dense peak / TDP; prices are public ranges): multiply by the MFU a
    job reaches for delivered FLOP/s. Sources are printed as numbered footnotes.

    \b
    mlfleet infra accelerators
    mlfleet infra accelerators -p fp8 -a H100 -a B200 -a MI300X --json
    """
    from mlfleet.infra.power.efficiency import efficiency_table

    rows = efficiency_table(precision, names=list(names) if names else None)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "model", "precision": precision,
                   "rows": [dataclasses.asdict(r) for r in rows]},
                  null_reasons={"flops_per_w": "no published TDP",
                                "peak_flops_per_s": "no peak at this precision"})
        return
    _print(rows, precision)


def _range(pair: tuple[float, float] | None, fmt: str) -> str:
    if pair is None:
        return "-"
    low, high = (fmt.format(v) for v in pair)
    return low if low == high else f"{low}-{high}"


def _print(rows: list[EfficiencyRow], precision: str) -> None:
    from mlfleet import units
    from mlfleet.report.terminal import print_table

    notes: dict[str, int] = {}

    def cite(row: EfficiencyRow) -> str:
        cited = dict.fromkeys(row.sources.values())
        return ",".join(str(notes.setdefault(s, len(notes) + 1)) for s in cited)

    body = [[r.name, r.year or "-", units.format_flops(r.peak_flops_per_s)
             if r.peak_flops_per_s else "-", f"{r.tdp_w:.0f} W" if r.tdp_w else "n/p",
             f"{r.flops_per_w / 1e12:.2f}" if r.flops_per_w else "-",
             units.format_rate(r.hbm_bw_bytes_per_s),
             f"{r.bytes_per_flop * 1e3:.2f}" if r.bytes_per_flop else "-",
             _range(r.purchase_usd_per_pflops, "${:,.0f}"),
             _range(r.cloud_usd_per_pflops_h, "${:,.2f}"), cite(r)] for r in rows]
    print_table(["accelerator", "year", f"peak {precision}", "TDP", "TFLOP/s per W",
                 "HBM BW", "HBM B/s per kFLOP/s", "purchase $ per PFLOP/s", "cloud $ per PFLOP/s-h",
                 "sources"], body,
                title=f"accelerators at {precision} (model: dense peak / TDP, public prices; "
                      "n/p = TDP not published)")
    for text, number in notes.items():
        click.echo(f"[{number}] {text}")
