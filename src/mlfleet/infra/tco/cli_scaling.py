"""``mlfleet infra tco scaling``: time to train and cost vs GPU count (the scaling fallacy)."""

from __future__ import annotations

import click

from mlfleet import units
from mlfleet.catalog.types import Cluster, Workload
from mlfleet.infra.tco import cli_inputs as parse
from mlfleet.infra.tco.scaling import DEFAULT_BATCH_TOKENS, DEFAULT_MFU, powers_of_two, scaling


@click.command("scaling")
@click.option("--workload", "-w", default="Llama-3-8B", show_default=True,
              help="Catalog workload.")
@click.option("--cluster", default="H100-16k-fat-tree", show_default=True,
              help="Catalog cluster whose topology carries the AllReduce.")
@click.option("--gpus", "gpus_text", help="GPU counts, e.g. 8,64,512 [powers of two up to "
              "the cluster's GPUs].")
@click.option("--tokens", type=float, help="Training tokens (or samples) [20 per parameter].")
@click.option("--batch-tokens", type=float, default=DEFAULT_BATCH_TOKENS, show_default=True,
              help="Global batch per step, tokens (or samples).")
@click.option("--mfu", type=float, default=DEFAULT_MFU, show_default=True,
              help="Model FLOP utilization of the compute.")
@click.option("--overlap", type=float, default=0.0, show_default=True,
              help="Fraction of the AllReduce hidden behind compute.")
@click.option("--price", help="Price per GPU-hour, e.g. $2.99/h [catalog on-demand].")
@click.option("--efficiency-floor", type=float, default=0.5, show_default=True,
              help="The knee is the largest GPU count at or above this efficiency.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def scaling_command(workload: str, cluster: str, gpus_text: str | None, tokens: float | None,
                    batch_tokens: float, mfu: float, overlap: float, price: str | None,
                    efficiency_floor: float, as_json: bool) -> None:
    """More GPUs always means faster training? Efficiency, time and cost vs GPU count.

    \b
    mlfleet infra tco scaling --workload Llama-3-8B
    """
    from mlfleet.infra.tco.ownership import cloud_price

    c = Cluster.from_name(cluster)
    sizes = parse.counts(gpus_text, "--gpus") if gpus_text else powers_of_two(c.gpus)
    usd_per_gpu_h, source = cloud_price(c.accelerator.name,
                                        parse.positive_price(price, "usd_per_h", "--price"))
    result = scaling(workload=workload, cluster=c.name, gpus=sizes, usd_per_gpu_h=usd_per_gpu_h,
                     tokens=tokens, batch_tokens=batch_tokens, mfu=mfu, overlap=overlap,
                     efficiency_floor=efficiency_floor)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "model", "price_source": source, "scaling": result})
        return
    from mlfleet.report.terminal import print_table

    print_table(
        ["GPUs", "compute/step", "AllReduce/step", "efficiency", "time to train", "cost",
         "tokens/GPU/step"],
        [[f"{p.gpus:,}", units.format_duration(p.compute_s), units.format_duration(p.comm_s),
          f"{p.efficiency:.0%}", units.format_duration(p.time_to_train_s), f"${p.cost_usd:,.0f}",
          f"{p.tokens_per_gpu:,.0f}"] for p in result.points],
        title=(f"{result.workload} on {result.cluster}: {result.tokens:.3g} tokens, batch "
               f"{result.batch_tokens:.3g}, MFU {result.mfu:.0%}, ${usd_per_gpu_h:.2f}/GPU-h "
               "(model)"))
    click.echo(f"knee (efficiency >= {result.efficiency_floor:.0%}): {result.knee_gpus:,} GPUs; "
               f"smallest cost x time: {result.balanced_gpus:,} GPUs; fastest swept: "
               f"{result.fastest_gpus:,}; cheapest: {result.cheapest_gpus:,}")
    seq_len = Workload.from_name(result.workload).shape.get("seq_len")
    split = [p.gpus for p in result.points if seq_len and p.tokens_per_gpu < seq_len]
    if seq_len and split:
        click.echo(f"from {split[0]:,} GPUs each holds less than one {seq_len:,.0f}-token "
                   "sequence per step: data parallelism alone cannot split the batch that far "
                   "(tensor or pipeline parallelism must)")
