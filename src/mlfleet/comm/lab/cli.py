"""``mlfleet lab hosts up | down | status``: the emulated multi-host lab from the shell.

Needs root (network namespaces and tc); without it every sub-command prints one
line saying so and exits with status 1.
"""

from __future__ import annotations

from typing import Any

import click

from mlfleet.comm.lab import lab as lab_mod
from mlfleet.comm.lab import netns
from mlfleet.comm.lab import state as state_mod
from mlfleet.comm.lab.shaping import payload_rate_bytes_per_s
from mlfleet.comm.lab.state import LabState
from mlfleet.errors import InputError
from mlfleet.lazy_group import LazyGroup
from mlfleet.units import format_bytes, format_rate, parse_quantity

LAB_COMMANDS: dict[str, tuple[str, str, str]] = {
    "slurm": ("mlfleet.infra.slurm_lab.cli", "slurm_group",
              "A real Slurm (slurmctld, one slurmd per lab host, munge, slurmdbd): up, down."),
}
"""Command name -> (module, attribute, one-line help); ``hosts`` is inline."""


@click.group("lab", cls=LazyGroup, registry=LAB_COMMANDS)
def lab_group() -> None:
    """Emulated multi-host lab: one network namespace per host, shaped links, one bridge."""


@lab_group.group("hosts")
def hosts_group() -> None:
    """Bring lab hosts up, take them down, show them."""


@hosts_group.command("up")
@click.option("--hosts", "n_hosts", type=int, default=4, show_default=True,
              help="Number of hosts (namespaces).")
@click.option("--bw", default="1gbit", show_default=True,
              help="Rate of every link direction, e.g. 1gbit, 100mbit, 10Gb/s.")
@click.option("--name", default=None, help="Lab name (default: lab-<id>).")
@click.option("--mtu", "mtu_bytes", type=int, default=lab_mod.DEFAULT_MTU_BYTES,
              show_default=True, help="MTU of the veths and the bridge.")
@click.option("--burst", default=None, help="tbf bucket, e.g. 32KiB (default: see docs).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def up_cmd(n_hosts: int, bw: str, name: str | None, mtu_bytes: int, burst: str | None,
           as_json: bool) -> None:
    """Create a lab of HOSTS namespaces whose links are shaped to BW in both directions."""
    rate = parse_quantity(bw, "bytes_per_s")
    burst_bytes = int(parse_quantity(burst, "bytes")) if burst is not None else None
    # keep=True: the lab outlives this command, but is removed if building it is interrupted
    state = lab_mod.Lab(hosts=n_hosts, rate_bytes_per_s=rate, name=name, mtu_bytes=mtu_bytes,
                        burst_bytes=burst_bytes, keep=True).up()
    if as_json:
        _emit(_describe(state))
        return
    _print_lab(state)
    click.echo(f"use it: mlfleet run collective --hosts {state.name} ...; "
               f"remove it: mlfleet lab hosts down --name {state.name}")


@hosts_group.command("down")
@click.option("--name", default=None, help="The lab to remove (default: the only one).")
@click.option("--all", "everything", is_flag=True,
              help="Remove every lab you created that no running command is using, and "
                   "leftovers of crashed runs.")
@click.option("--force", is_flag=True,
              help="With --all: also other users' labs, labs in use, and lab namespaces "
                   "with no state file.")
def down_cmd(name: str | None, everything: bool, force: bool) -> None:
    """Remove a lab: its namespaces, devices, qdiscs and state file."""
    if everything and name is not None:
        raise InputError("give either --name NAME or --all, not both")
    if force and not everything:
        raise InputError("--force goes with --all")
    if everything:
        _report_down_all(lab_mod.down_all(force=force))
        return
    target = name if name is not None else _only_lab_name()
    state = lab_mod.down(target)
    click.echo(f"removed lab {state.name} ({len(state.namespaces)} namespaces)")


def _report_down_all(result: lab_mod.DownAll) -> None:
    removed = result.removed_namespaces
    click.echo(f"removed {len(removed)} namespaces" + (f": {' '.join(removed)}"
                                                       if removed else ""))
    for lab_name, why in result.kept_labs:
        click.echo(f"kept lab {lab_name} ({why}); --all --force removes it")
    if result.kept_orphans:
        click.echo(f"kept {len(result.kept_orphans)} lab namespaces with no state file here "
                   f"({' '.join(result.kept_orphans)}); --all --force removes them")


def _only_lab_name() -> str:
    names = [s.name for s in state_mod.list_states()]
    if len(names) != 1:
        raise InputError(f"give --name NAME or --all; labs: {', '.join(names) or 'none'}")
    return names[0]


@hosts_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(as_json: bool) -> None:
    """List labs, their hosts and links, and leftover namespaces without a lab."""
    states = state_mod.list_states()
    present = set(netns.list_namespaces())
    known = {ns for s in states for ns in s.namespaces}
    orphans = sorted(ns for ns in present if state_mod.NAMESPACE_RE.match(ns) and ns not in known)
    if as_json:
        _emit({"labs": [_describe(s, present) for s in states], "orphan_namespaces": orphans})
        return
    if not states:
        click.echo("no labs")
    for state in states:
        _print_lab(state, present)
    if orphans:
        click.echo(f"leftover namespaces (remove with `mlfleet lab hosts down --all --force`): "
                   f"{' '.join(orphans)}")


def _describe(state: LabState, present: set[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": state.name, "status": state.status, "subnet": state.subnet,
        "rate_bytes_per_s": state.rate_bytes_per_s, "mtu_bytes": state.mtu_bytes,
        "payload_rate_bytes_per_s": payload_rate_bytes_per_s(state.rate_bytes_per_s,
                                                             state.mtu_bytes),
        "burst_bytes": state.burst_bytes, "limit_bytes": state.limit_bytes,
        "tcp_window_bytes": state.window_bytes, "tcp_rto_min_s": state.rto_min_s,
        "hosts": [{"index": h.index, "ip": h.ip, "namespace": h.namespace,
                   "exec_prefix": netns.ns_exec(h.namespace)} for h in state.hosts],
    }
    if present is not None:
        doc["missing_namespaces"] = [ns for ns in state.namespaces if ns not in present]
    return doc


def _print_lab(state: LabState, present: set[str] | None = None) -> None:
    payload = payload_rate_bytes_per_s(state.rate_bytes_per_s, state.mtu_bytes)
    missing = [ns for ns in state.namespaces if present is not None and ns not in present]
    health = f", MISSING {' '.join(missing)}" if missing else ""
    click.echo(f"lab {state.name} ({state.status}{health}): {len(state.hosts)} hosts on "
               f"{state.subnet}, every link {format_rate(state.rate_bytes_per_s)} each way "
               f"(TCP payload {format_rate(payload)}), MTU {state.mtu_bytes}, "
               f"tbf burst {format_bytes(state.burst_bytes)} limit "
               f"{format_bytes(state.limit_bytes)}")
    for host in state.hosts:
        click.echo(f"  host {host.index}: {host.ip:<15} ip netns exec {host.namespace}")


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)
