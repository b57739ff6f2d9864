"""Run ``mlfleet run train`` in-process and read its ``--json`` report."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlfleet.cli import main
from mlfleet.reliability.train.inject import check_injections, parse_injection
from mlfleet.reliability.train.job import TrainSpec
from mlfleet.reliability.train.ranks import ForkServer
from mlfleet.reliability.train.report import TrainReport, build_report
from mlfleet.reliability.train.supervisor import Supervisor, SupervisorConfig

SMALL = ("--ranks", "2", "--steps", "40", "--ckpt-every", "10")
"""A two-rank run of 40 steps, checkpoints every 10."""


def train_json(*args: str) -> dict[str, Any]:
    """``mlfleet run train ARGS --json``: assert exit 0, return the parsed report."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "train", *args, "--json"])
    assert code == 0, err.getvalue()
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def run_supervised(server: ForkServer, ckpt_root: Path, *, ranks: int, steps: int,
                   ckpt_every: int, injections: tuple[str, ...] = (), seed: int = 0,
                   async_ckpt: bool = False, **config: Any) -> TrainReport:
    """The supervisor and report the CLI uses, on a fork server shared between runs."""
    spec = TrainSpec(steps=steps, ckpt_every=ckpt_every, seed=seed, async_ckpt=async_ckpt)
    parsed = tuple(parse_injection(text) for text in injections)
    check_injections(parsed, ranks=ranks, steps=steps, ckpt_every=ckpt_every)
    record = Supervisor(spec, SupervisorConfig(ranks=ranks, ckpt_root=ckpt_root,
                                               injections=parsed, inject_seed=seed, **config),
                        server=server).run()
    return build_report(record, steps=steps, ranks=ranks, ckpt_every=ckpt_every,
                        injections=parsed)


@contextlib.contextmanager
def fork_server(tmp: Path) -> Iterator[ForkServer]:
    """A fork server for several runs (each run would otherwise start its own)."""
    server = ForkServer(log_path=tmp / "forkserver.log", timeout_s=300)
    try:
        yield server
    finally:
        server.close()
