"""``mlfleet infra tco hybrid``: own a baseline, rent the peaks (the quantile rule)."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from mlfleet.infra.tco import cli_inputs as parse
from mlfleet.infra.tco.opex import HOURS_PER_YEAR


@click.command("hybrid")
@parse.owned_options
@click.option("--mean-gpus", type=float, help="Mean GPU demand [half of --gpus].")
@click.option("--amplitude", type=float, default=0.5, show_default=True,
              help="Diurnal swing of the demand as a fraction of its mean, in [0, 1].")
@click.option("--hours", type=click.IntRange(1, 24 * 366), default=168, show_default=True,
              help="Hours of demand (hourly samples).")
@click.option("--cloud-price", help="On-demand price per GPU-hour [catalog offer].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def hybrid_command(mean_gpus: float | None, amplitude: float, hours: int,
                   cloud_price: str | None, as_json: bool, **opts: Any) -> None:
    """Own a baseline of GPUs and rent the rest: all-cloud, all-owned and the best mix.

    The owned cost per GPU-hour is that of a --gpus cluster; demand is diurnal around
    --mean-gpus. Owning pays up to the demand quantile 1 - u* (u*: break-even utilization).
    """
    from mlfleet.infra.tco import hybrid
    from mlfleet.infra.tco.ownership import cloud_price as catalog_price

    owned, _ = parse.owned_from_options(opts)
    c_o = owned.usd_per_year / (owned.inputs.gpus * HOURS_PER_YEAR)
    c_c, source = catalog_price(owned.inputs.accelerator,
                                parse.positive_price(cloud_price, "usd_per_h", "--cloud-price"))
    mean = parse.gpus_float(mean_gpus, "--mean-gpus") if mean_gpus is not None \
        else owned.inputs.gpus / 2.0
    demand = hybrid.demand_profile(mean_gpus=mean, amplitude=parse.amplitude(amplitude),
                                   hours=hours)
    best = hybrid.best_owned_gpus(demand, owned_usd_per_gpu_h=c_o, cloud_usd_per_gpu_h=c_c)
    plans = {name: hybrid.plan(demand, owned_gpus=x, owned_usd_per_gpu_h=c_o,
                               cloud_usd_per_gpu_h=c_c)
             for name, x in (("all on-demand", 0.0), ("own the mean", mean),
                             ("own the peak", float(np.max(demand))), ("hybrid (quantile)", best))}
    used = float(np.sum(demand))
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "model", "owned_usd_per_gpu_h": c_o, "cloud_usd_per_gpu_h": c_c,
                   "cloud_source": source, "breakeven_utilization": c_o / c_c,
                   "demand_gpu_h": used, "plans": plans})
        return
    from mlfleet.report.terminal import print_table

    print_table(["strategy", "owned GPUs", "rented GPU-h", "cost", "owned utilization",
                 "$/used GPU-h"],
                [[name, f"{p.owned_gpus:,.0f}", f"{p.rented_gpu_h:,.0f}", f"${p.cost_usd:,.0f}",
                  f"{p.owned_utilization:.0%}" if p.owned_gpus else "-",
                  f"${p.cost_usd / used:,.2f}"] for name, p in plans.items()],
                title=(f"{hours} h of demand around {mean:,.0f} GPUs (+/-{amplitude:.0%}), "
                       f"owned ${c_o:.2f}/GPU-h vs on-demand ${c_c:.2f}; break-even "
                       f"utilization {c_o / c_c:.0%} (model)"))
