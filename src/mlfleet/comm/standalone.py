"""``python -m mlfleet.comm.worker COLLECTIVE ...``: one rank started by someone else.

torchrun (or a user) starts one process per rank; ``RANK`` and ``WORLD_SIZE`` come
from the environment. Every rank measures the collective with the same options
as ``mlfleet run collective``; rank 0 prints the same table (or JSON). The torch
backend rendezvouses through ``MASTER_ADDR``/``MASTER_PORT``; the socket backend
listens on fixed ports (rank ``r`` on ``hosts[r]:base_port + r``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import click

from mlfleet.comm.algorithms.benchmark import measure_collective
from mlfleet.comm.algorithms.gather import gather_objects
from mlfleet.comm.run_cli import check_for_ranks, job_options, report_results, resolve_options
from mlfleet.comm.transport.base import Transport
from mlfleet.entry import run_command
from mlfleet.errors import InputError


@click.command("worker")
@job_options
@click.option("--hosts", default=None, help="socket backend: comma list of rank IPs.")
@click.option("--base-port", default=29600, show_default=True, type=int,
              help="socket backend: rank r listens on hosts[r]:base_port + r.")
def standalone_command(collective: str, hosts: str | None, base_port: int,
                       **options: Any) -> None:
    """Measure a collective as one rank of a job started by torchrun or by hand."""
    job, backend, timeout_s, given_link, as_json = resolve_options(collective, options)
    transport = _transport(backend, hosts, base_port, timeout_s)
    try:
        check_for_ranks(job, transport.world_size)
        results = gather_objects(transport, measure_collective(transport, job))
    finally:
        transport.close()
    if int(os.environ.get("RANK", "0")) == 0:
        report_results(job, results, backend=backend, given_link=given_link, as_json=as_json)


def _transport(backend: str, hosts: str | None, base_port: int, timeout_s: float) -> Transport:
    if backend == "torch":
        from mlfleet.comm.transport.torch_dist import TorchTransport

        return TorchTransport.from_env(timeout_s=timeout_s)
    from mlfleet.comm.transport.socket import SocketTransport

    if "RANK" not in os.environ:
        raise InputError("socket backend standalone needs RANK in the environment (torchrun "
                         "sets it) and --hosts ip0,ip1,... unless every rank is on this host")
    host_list = hosts.split(",") if hosts is not None else _single_node_hosts()
    return SocketTransport.from_static_ports(rank=int(os.environ["RANK"]), hosts=host_list,
                                             base_port=base_port, timeout_s=timeout_s)


def _single_node_hosts() -> list[str]:
    """Loopback for every rank when torchrun put them all on this node, else InputError."""
    world, local = os.environ.get("WORLD_SIZE"), os.environ.get("LOCAL_WORLD_SIZE")
    if world is None or world != local:
        raise InputError("socket backend across nodes needs --hosts ip0,ip1,... (one IP per "
                         "rank), or use --backend torch under torchrun")
    return ["127.0.0.1"] * int(world)


def standalone_main(argv: Sequence[str]) -> int:
    """Run :func:`standalone_command` on ``argv``; the exit status (2: bad input, one line)."""
    return run_command(standalone_command, argv, prog_name="mlfleet.comm.worker")
