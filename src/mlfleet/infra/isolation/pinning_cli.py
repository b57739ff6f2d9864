"""``mlfleet run pinning``: p50/p99 of a real ``mlfleet serve`` with and without CPU pinning
while CPU hogs run (see :mod:`mlfleet.infra.isolation.pinning`)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from typing import Any

import click

from mlfleet.errors import InputError, UnitError
from mlfleet.units import parse_quantity


def _duration_s(text: str) -> float:
    try:
        value = parse_quantity(text, "s")
    except UnitError as exc:
        raise UnitError(f"--duration: {exc}") from None
    if not 0.5 <= value <= 600:
        raise InputError(f"--duration(={text!r}) must be between 0.5s and 10min")
    return value


def _require(*packages: str) -> None:
    """The server and the load generator need these (the ``serve`` and ``torch`` extras):
    a missing one is a one-line error from :mod:`mlfleet.entry`, before any child starts."""
    for name in packages:
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@click.command("pinning")
@click.option("--duration", default="10s", show_default=True,
              help="Load per case (four cases).")
@click.option("--rate", type=float, default=100.0, show_default=True,
              help="Open-loop arrivals per second to /v1/rank.")
@click.option("--hogs", type=click.IntRange(1, 64), default=None,
              help="Busy-loop processes [as many as the CPUs this process may use].")
@click.option("--server-cpus", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPUs the pinned server gets (the hogs get the rest).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pinning_command(duration: str, rate: float, hogs: int | None, server_cpus: int, seed: int,
                    as_json: bool) -> None:
    """A real server under load while CPU hogs run: unpinned vs pinned to disjoint CPUs.

    \b
    mlfleet run pinning
    mlfleet run pinning --duration 5s --rate 50 --json
    """
    from mlfleet.infra.isolation.pinning import run_pinning, split_cpus

    _require("aiohttp", "torch")
    if not 0 < rate <= 10_000:
        raise InputError(f"--rate(={rate:g}) must be in (0, 10000] requests per second")
    duration_s = _duration_s(duration)
    split_cpus(server_cpus)
    count = hogs if hogs is not None else len(os.sched_getaffinity(0))

    def say(name: str) -> None:
        if not as_json:
            click.echo(f"case: {name} ({duration_s:g} s at {rate:g} req/s)", err=True)

    results = run_pinning(rate_per_s=rate, duration_s=duration_s, hogs=count,
                          server_cpus=server_cpus, seed=seed, on_case=say)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "run", "rate_per_s": rate, "duration_s": duration_s,
                   "hogs": count, "cpus": sorted(os.sched_getaffinity(0)),
                   "cases": [dataclasses.asdict(r) for r in results]},
                  null_reasons={"p50_s": "no request completed",
                                "p99_s": "fewer than 100 requests completed"})
        return
    _print(results, count)


def _print(results: list[Any], hogs: int) -> None:
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_duration

    print_table(["case", "server CPUs", "hog CPUs", "hog CPU time", "p50", "p99",
                 "throughput", "client lag p99"],
                [[r.name, r.server_cpus, ", ".join(r.hog_cpus) or "-",
                  " + ".join(f"{c:.1f} s" for c in r.hog_cpu_s) or "-",
                  format_duration(r.p50_s), format_duration(r.p99_s),
                  f"{r.throughput_per_s:.1f}/s", format_duration(r.client_lag_p99_s)]
                 for r in results],
                title=f"CPU pinning (run): mlfleet serve /v1/rank beside {hogs} busy-loop hog(s)")
