"""``mlfleet sim cluster``: a workload through a scheduling policy on a GPU cluster.

WORKLOAD is a CSV file (Pollux layout or a trace, see :mod:`.workload`) or a bundled
name: ``workload-3`` (Pollux artifact, load 1.0), ``workload-3@0.5``, ``philly``.
Prints the metrics table (``--json``: a strict JSON document); ``--out`` writes one
row per job. A progress bar goes to stderr on a terminal. Bad input exits 2 with one
line and leaves no output file.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from mlfleet import units
from mlfleet.errors import InputError
from mlfleet.report.progress import progress_bar
from mlfleet.units import duration_option


def _document(run: Any) -> dict[str, Any]:
    result = run.result
    return {"workload": run.workload.name, "policy": result.policy, "jobs": len(result.records),
            "cluster": {"nodes": run.nodes, "gpus_per_node": run.gpus_per_node,
                        "gpus": run.nodes * run.gpus_per_node},
            "interval_s": run.interval_s, "metrics": asdict(result.metrics)}


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    m = doc["metrics"]
    rows = [("jobs finished", f"{m['finished']} / {m['jobs']}"),
            ("average JCT", units.format_duration(m["avg_jct_s"])),
            ("median JCT", units.format_duration(m["median_jct_s"])),
            ("p95 / p99 JCT", f"{units.format_duration(m['p95_jct_s'])} / "
                              f"{units.format_duration(m['p99_jct_s'])}"),
            ("max JCT", units.format_duration(m["max_jct_s"])),
            ("queueing delay (mean / p95)", f"{units.format_duration(m['avg_queueing_s'])} / "
                                            f"{units.format_duration(m['p95_queueing_s'])}"),
            ("makespan", units.format_duration(m["makespan_s"])),
            ("GPU utilisation", f"{m['gpu_utilisation']:.1%}"),
            ("restarts / preemptions", f"{m['restarts']} / {m['preemptions']}"),
            ("scheduling rounds", str(m["rounds"]))]
    c = doc["cluster"]
    print_table(("metric", "value"), rows,
                title=f"{doc['workload']} under {doc['policy']} on {c['nodes']} x "
                      f"{c['gpus_per_node']} GPUs")


def _options(items: tuple[str, ...]) -> dict[str, str]:
    """``("f=0.8", "lease_s=600")`` -> ``{"f": "0.8", "lease_s": "600"}``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip() or key.strip() == "interval_s":
            raise InputError(f"--option {item!r} must look like KEY=VALUE, e.g. f=0.8 "
                             "(the interval is --interval)")
        out[key.strip()] = value.strip()
    return out


@click.command("cluster")
@click.argument("workload")
@click.option("--policy", default="tiresias", show_default=True,
              help="Scheduling policy (a wrong name lists the known ones).")
@click.option("--nodes", type=click.IntRange(min=1), default=None,
              help="Nodes [16 for Pollux workloads; a trace: sized for load 0.7].")
@click.option("--gpus-per-node", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--interval", default="60s", show_default=True, help="Scheduling interval.")
@click.option("--restart-delay", default="30s", show_default=True,
              help="Delay a job pays when its placement changes.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A policy's own knob, e.g. --option f=0.8 (themis), --option "
                   "threshold_gpu_s=3600 (tiresias); repeatable. A wrong key lists the known.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one CSV row per job here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cluster_command(workload: str, policy: str, nodes: int | None, gpus_per_node: int,
                    interval: str, restart_delay: str, options: tuple[str, ...], out: Path | None,
                    as_json: bool) -> None:
    """Simulate WORKLOAD (CSV or workload-N[@0.5] or philly) under a scheduling policy."""
    from mlfleet.infra.scheduling.results import write_per_job_csv
    from mlfleet.infra.scheduling.run import run_cluster
    from mlfleet.infra.scheduling.workload import load_workload

    interval_s = duration_option("--interval", interval)
    delay_s = duration_option("--restart-delay", restart_delay, allow_zero=True)
    if out is not None and (not out.name or out.is_dir()):
        raise InputError(f"--out(={str(out)!r}) must name a file")
    if out is not None and not out.parent.is_dir():
        raise InputError(f"--out(={str(out)!r}): folder {str(out.parent)!r} does not exist")
    knobs = _options(options)
    jobs = load_workload(workload)
    with progress_bar(not as_json, "scheduling") as bar:
        run = run_cluster(jobs, policy=policy, nodes=nodes, gpus_per_node=gpus_per_node,
                          interval_s=interval_s, restart_delay_s=delay_s, progress=bar,
                          options=knobs)
    if out is not None:
        write_per_job_csv(run.result.records, out)
    doc = _document(run)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print(doc)
