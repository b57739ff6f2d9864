"""``mlfleet storage starvation``: will the data loader keep the GPU busy?

    mlfleet storage starvation --decode-cost 2ms --batch-size 256 --step-time 150ms
    mlfleet storage starvation --workers 1,2,4,8,16 --cores 16 --storage-bw 1GB/s --json

Per worker count: samples/s the loader delivers and which bound sets it, seconds per
batch, seconds per step the GPU waits (fixed times), the GPU's busy fraction, and the
idle fraction with exponential jitter and the prefetch depth (M/M/1/K); and the fewest
workers that keep up. The model is :mod:`mlfleet.storage.starvation`; ``mlfleet run
loader`` measures it on this machine.
"""

from __future__ import annotations

from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.storage.loader.cli import parse_workers
from mlfleet.storage.starvation import LoaderCosts, LoaderSetup, starvation, workers_needed
from mlfleet.units import parse_quantity


def _quantity(option: str, text: str, target: str, *, allow_zero: bool = True,
              allow_inf: bool = False) -> float:
    value = parse_quantity(text, target)
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or (value == float("inf") and not allow_inf):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{option}(={text!r}) must be a finite quantity {bound}")
    return value


def _costs(opts: dict[str, Any]) -> LoaderCosts:
    read_s = _quantity("--read-cost", opts["read_cost"], "s")
    decode_s = _quantity("--decode-cost", opts["decode_cost"], "s")
    main_s = _quantity("--main-cost", opts["main_cost"], "s")
    if read_s + decode_s + main_s <= 0:
        raise InputError("--read-cost, --decode-cost and --main-cost(=0 each) must not all be 0")
    bw = (float("inf") if opts["storage_bw"] in ("inf", "none") else
          _quantity("--storage-bw", opts["storage_bw"], "bytes_per_s", allow_zero=False))
    return LoaderCosts(read_s_per_sample=read_s, decode_s_per_sample=decode_s,
                       main_s_per_sample=main_s, storage_bw_bytes_per_s=bw,
                       sample_bytes=_quantity("--sample-bytes", opts["sample_bytes"], "bytes"))


def _positive_int(option: str, value: int, minimum: int = 1) -> int:
    if value < minimum:
        raise InputError(f"{option}(={value}) must be an integer >= {minimum}")
    return value


def evaluate(opts: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` document for the command's options."""
    costs = _costs(opts)
    cores = _positive_int("--cores", opts["cores"])
    batch = _positive_int("--batch-size", opts["batch_size"])
    step_s = _quantity("--step-time", opts["step_time"], "s", allow_zero=False)
    prefetch = _positive_int("--prefetch", opts["prefetch"], minimum=0)
    rows = []
    for w in parse_workers(opts["workers"]):
        v = starvation(LoaderSetup(costs=costs, workers=w, cores=cores, batch_size=batch,
                                   step_s=step_s, prefetch_batches=prefetch))
        rows.append({"workers": w, "samples_per_s": v.samples_per_s, "bottleneck": v.bottleneck,
                     "batch_s": v.batch_s, "exposed_s_per_step": v.exposed_s_per_step,
                     "gpu_busy_fraction": v.gpu_busy_fraction,
                     "starved_fraction_jittered": v.starved_fraction_jittered})
    needed = batch / step_s
    return {"fidelity": "model", "model": "mlfleet.storage.starvation", "cores": cores,
            "batch_size": batch, "step_s": step_s, "prefetch_batches": prefetch,
            "needed_samples_per_s": needed,
            "workers_needed": workers_needed(costs, cores=cores, samples_per_s=needed),
            "costs": {"read_s_per_sample": costs.read_s_per_sample,
                      "decode_s_per_sample": costs.decode_s_per_sample,
                      "main_s_per_sample": costs.main_s_per_sample,
                      "sample_bytes": costs.sample_bytes,
                      "storage_bw_bytes_per_s": costs.storage_bw_bytes_per_s},
            "rows": rows}


@click.command("starvation")
@click.option("--workers", default="1,2,4,8", show_default=True,
              help="Loader worker counts, comma list.")
@click.option("--cores", default=14, show_default=True, type=int,
              help="CPU cores for the loader and the trainer (14: a DGX H100's 112 / 8 GPUs).")
@click.option("--read-cost", default="0.1ms", show_default=True,
              help="Worker CPU time to read one sample.")
@click.option("--decode-cost", default="2ms", show_default=True,
              help="Worker CPU time to decode/augment one sample.")
@click.option("--main-cost", default="20us", show_default=True,
              help="Trainer-process time to receive one sample (IPC, collate).")
@click.option("--sample-bytes", default="110KB", show_default=True,
              help="Stored bytes per sample (110KB: a mean ImageNet JPEG).")
@click.option("--storage-bw", default="inf", show_default=True,
              help="Bandwidth the storage delivers to the job (inf: not a bound).")
@click.option("--batch-size", default=256, show_default=True, type=int)
@click.option("--step-time", default="200ms", show_default=True,
              help="GPU compute time per step.")
@click.option("--prefetch", default=2, show_default=True, type=int,
              help="Batches the loader may hold ready ahead of the GPU.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def starvation_command(as_json: bool, **opts: Any) -> None:
    """GPU starvation: loader samples/s and the step time exposed to data loading."""
    doc = evaluate(opts)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
        return
    render(doc)


def render(doc: dict[str, Any]) -> None:
    """The human table on stdout."""
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_duration

    rows = [[str(r["workers"]), f"{r['samples_per_s']:,.0f}", r["bottleneck"],
             format_duration(r["batch_s"]), format_duration(r["exposed_s_per_step"]),
             f"{r['gpu_busy_fraction']:.0%}", f"{r['starved_fraction_jittered']:.1%}"]
            for r in doc["rows"]]
    print_table(["workers", "samples/s", "bound", "batch time", "GPU waits/step", "GPU busy",
                 "idle with jitter"], rows,
                title=f"loader vs GPU: batch {doc['batch_size']}, step "
                      f"{format_duration(doc['step_s'])}, {doc['cores']} cores, prefetch "
                      f"{doc['prefetch_batches']} batches")
    needed = doc["workers_needed"]
    click.echo(f"needs {doc['needed_samples_per_s']:,.0f} samples/s: "
               + (f"{needed} worker(s) keep up" if needed is not None else
                  f"no worker count keeps up on {doc['cores']} cores"))
