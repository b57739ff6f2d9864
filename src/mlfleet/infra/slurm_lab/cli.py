"""``mlfleet lab slurm up | status | down``: a real Slurm on the namespace lab.

Needs root (network namespaces, daemons); without it each sub-command prints one line
and exits 1. Bad arguments exit 2 before anything starts.
"""

from __future__ import annotations

import os
from typing import Any

import click

from mlfleet.checks import positive_int
from mlfleet.errors import InputError
from mlfleet.infra.slurm_lab import cluster, processes
from mlfleet.infra.slurm_lab import state as state_mod
from mlfleet.infra.slurm_lab.compare import mixed_config


@click.group("slurm")
def slurm_group() -> None:
    """A real Slurm: slurmctld, one slurmd per lab host (GPUs as gres), munge, slurmdbd."""


@slurm_group.command("up")
@click.option("--hosts", "n_hosts", type=int, required=True,
              help="Lab hosts, one slurmd each (2-64).")
@click.option("--gpus-per-host", type=int, default=4, show_default=True,
              help="GPUs each node declares as gres (files linked to /dev/null).")
@click.option("--accounting", is_flag=True,
              help="Also MariaDB + slurmdbd (sacct, sshare, fair-share).")
def up_cmd(n_hosts: int, gpus_per_host: int, accounting: bool) -> None:
    """Start slurmctld and one slurmd per host, with partitions batch and urgent."""
    positive_int("--hosts", n_hosts, minimum=2)
    if n_hosts > 64:
        raise InputError(f"--hosts(={n_hosts}) must be at most 64")
    positive_int("--gpus-per-host", gpus_per_host, minimum=0)
    config = mixed_config(hosts=n_hosts, gpus_per_host=gpus_per_host)
    state = cluster.up(config=config, hosts=n_hosts, accounting=accounting)
    click.echo(f"slurm lab up: {n_hosts} nodes x {gpus_per_host} GPUs in lab {state.lab_name}"
               f"{' with accounting' if accounting else ''}; files under {state.root}")
    click.echo(f"use it: export SLURM_CONF={state.slurm_conf}; "
               f"nsenter --net=/var/run/netns/{state.control_namespace} sinfo")
    click.echo("remove it: mlfleet lab slurm down")


@slurm_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(as_json: bool) -> None:
    """Show the Slurm lab (and its nodes, from sinfo) if one is up."""
    found = state_mod.read()
    if as_json:
        _emit({"lab": None if found is None else _describe(found)})
        return
    if found is None:
        click.echo("no Slurm lab")
        return
    click.echo(f"slurm lab ({found.status}) in lab {found.lab_name}: {len(found.host_ips)} "
               f"nodes x {found.gpus_per_host} GPUs; files under {found.root}")
    if found.status == "up" and os.geteuid() == 0:
        click.echo(processes.run(found.control_namespace, ["sinfo", "-N"],
                                 env=cluster.client_env(found), check=False).rstrip())


@slurm_group.command("down")
def down_cmd() -> None:
    """Cancel every job, stop every daemon, delete namespaces and files."""
    found = cluster.down()
    click.echo(f"removed the Slurm lab ({len(found.host_ips)} nodes) and {found.root}")


def _describe(state: state_mod.SlurmLabState) -> dict[str, Any]:
    return {"status": state.status, "lab": state.lab_name, "root": state.root,
            "slurm_conf": str(state.slurm_conf), "control_namespace": state.control_namespace,
            "hosts": list(state.host_ips), "gpus_per_host": state.gpus_per_host,
            "accounting": state.accounting}


def _emit(payload: Any) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)
