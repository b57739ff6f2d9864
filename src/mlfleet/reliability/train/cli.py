"""``mlfleet run train``: data-parallel training on N real processes that loses nothing.

    mlfleet run train --ranks 4 --steps 200 --ckpt-every 20 --inject kill:rank=2,step=137 --json
    mlfleet run train --inject random-kill:rate=0.005 --async-ckpt
    mlfleet run train --inject hang:rank=1,step=50 --hang-timeout 3s
    mlfleet run train --inject kill:rank=1,step=30 --elastic --rescale-lr --rejoin-after 40
    mlfleet run train --inject slow:rank=3,factor=3 --log-dir logs   # then: mlfleet ops debug

Every input is checked before anything starts or is created: a bad one is one line and
exit 2. Without ``--ckpt-dir`` checkpoints go to a temporary directory removed at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.ops.debug.rank_log import check_log_dir, make_log_dir
from mlfleet.reliability.train.inject import (
    InjectError,
    Injection,
    check_injections,
    parse_injection,
)
from mlfleet.reliability.train.job import TrainSpec
from mlfleet.reliability.train.render import payload, render
from mlfleet.reliability.train.report import build_report
from mlfleet.reliability.train.supervisor import Supervisor, SupervisorConfig
from mlfleet.storage.checkpoint import CheckpointStore
from mlfleet.units import parse_quantity

MAX_RANKS = 16
MAX_STEPS = 1_000_000
SMALL_FS_BYTES = 1 << 30
"""disk-full fills the checkpoint file system: only one with less than this free."""


def _check_numbers(*, ranks: int, steps: int, ckpt_every: int, batch: int, lr: float,
                   keep_last: int, keep_every: int, max_restarts: int) -> None:
    bounds = [("--ranks", ranks, 1, MAX_RANKS), ("--steps", steps, 1, MAX_STEPS),
              ("--ckpt-every", ckpt_every, 1, MAX_STEPS), ("--batch", batch, 1, 4096),
              ("--keep-last", keep_last, 1, 1000), ("--keep-every", keep_every, 0, MAX_STEPS),
              ("--max-restarts", max_restarts, 0, 1000)]
    for name, value, low, high in bounds:
        if not low <= value <= high:
            raise InputError(f"{name}(={value}) must be an integer in {low}..{high}")
    if not 0 < lr <= 10:
        raise InputError(f"--lr(={lr:g}) must be in (0, 10]")


def _check_elastic(*, elastic: bool, rescale_lr: bool, rejoin_after: int | None) -> None:
    if not elastic and (rescale_lr or rejoin_after is not None):
        raise InputError("--rescale-lr and --rejoin-after need --elastic")
    if rejoin_after is not None and rejoin_after < 1:
        raise InputError(f"--rejoin-after(={rejoin_after}) must be >= 1 step")


def _check_ckpt_dir(path: Path, *, resume: bool, injections: tuple[Injection, ...]) -> None:
    """InputError for a checkpoint directory this run must not use (nothing is created)."""
    if path.exists() and not path.is_dir():
        raise InputError(f"--ckpt-dir {str(path)!r} is not a directory")
    if path.is_dir() and not resume and any(p.name.startswith("step-") for p in path.iterdir()):
        raise InputError(f"--ckpt-dir {str(path)!r} already holds checkpoints; pass --resume to "
                         "continue from them, or choose an empty directory")
    if any(i.kind == "disk-full" for i in injections):
        existing = next(p for p in (path, *path.resolve().parents) if p.exists())
        stat = os.statvfs(existing)
        if stat.f_bavail * stat.f_frsize >= SMALL_FS_BYTES:
            raise InjectError(f"--inject disk-full fills the file system of --ckpt-dir "
                              f"{str(path)!r}; it has >= 1 GiB free: use a small one (e.g. a "
                              "tmpfs: mount -t tmpfs -o size=8m tmpfs DIR)")


@contextlib.contextmanager
def _ckpt_root(ckpt_dir: str | None) -> Iterator[Path]:
    """The given directory, or a temporary one removed at the end."""
    if ckpt_dir is not None:
        yield Path(ckpt_dir)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mlfleet-ckpt-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _progress(*, enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar of steps on stderr (or nothing); the value advances it."""
    if not enabled:
        yield lambda step: None
        return
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    bar.start()
    task = bar.add_task("steps", total=total)
    try:
        yield lambda step: bar.update(task, completed=step)
    finally:
        bar.stop()


@click.command("train")
@click.option("--ranks", "-n", default=4, show_default=True, type=int,
              help=f"Data-parallel processes, 1..{MAX_RANKS}.")
@click.option("--steps", default=200, show_default=True, type=int, help="Optimizer steps.")
@click.option("--ckpt-every", default=20, show_default=True, type=int,
              help="Steps between checkpoints (one is also taken after the last step).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--batch", default=32, show_default=True, type=int, help="Samples per rank per step.")
@click.option("--lr", default=0.01, show_default=True, type=float, help="Adam learning rate.")
@click.option("--inject", "inject", multiple=True, metavar="SPEC",
              help="Fault to cause (repeatable): kill:rank=R,step=S, random-kill:rate=P, "
              "hang:rank=R,step=S, corrupt:step=S, disk-full:step=S, slow:rank=R,factor=F, "
              "nan:rank=R,step=S, spike:rank=R,step=S,factor=F.")
@click.option("--async-ckpt", is_flag=True,
              help="Snapshot in memory on the training path, write in the background.")
@click.option("--compression", default="none", show_default=True,
              type=click.Choice(["none", "zlib", "lzma"]), help="Shard compression.")
@click.option("--keep-last", default=3, show_default=True, type=int,
              help="Retention: newest checkpoints kept.")
@click.option("--keep-every", default=0, show_default=True, type=int,
              help="Retention: also keep steps that are multiples of this (0: none).")
@click.option("--ckpt-dir", default=None, help="Checkpoint directory (default: a temporary "
              "one, removed at the end).")
@click.option("--resume", is_flag=True, help="Continue from the newest good checkpoint in "
              "--ckpt-dir.")
@click.option("--hang-timeout", default="10s", show_default=True,
              help="A rank without a heartbeat this long is hung.")
@click.option("--max-restarts", default=10, show_default=True, type=int)
@click.option("--elastic", is_flag=True, help="After a failure continue with one rank fewer.")
@click.option("--rescale-lr", is_flag=True,
              help="Elastic: scale the learning rate with the world size (linear rule).")
@click.option("--rejoin-after", default=None, type=int,
              help="Elastic: grow back to --ranks this many steps after a shrink.")
@click.option("--log-dir", default=None, help="Write per-rank span logs here "
              "(rank-NNNNN.jsonl; read them with mlfleet ops debug).")
@click.option("--record", "record_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write a reproducibility record (code, environment, configuration, final "
                   "checkpoint) here when the run ends (mlfleet ops record --verify reads it).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
def train_command(**options: Any) -> None:
    """Fault-tolerant data-parallel training: checkpoints, kills, recovery, goodput.

    RANKS real processes train a small MLP on seeded synthetic data (torch.distributed,
    gloo). A supervisor commits sharded checkpoints, detects dead and hung ranks,
    restarts the world from the last good checkpoint and reports lost steps, detection
    and recovery time, checkpoint stall, goodput against Daly's model, stragglers and the
    SHA-256 of the final weights.
    """
    spec, config = validate(options)
    as_json = bool(options["as_json"])
    record_path: Path | None = options["record_path"]
    if record_path is not None and (record_path.is_dir()
                                    or not record_path.resolve().parent.is_dir()):
        raise InputError(f"--record(={str(record_path)!r}) must be a file path in an existing "
                         "directory")
    if config.log_dir is not None:
        make_log_dir(config.log_dir)
    with _ckpt_root(options["ckpt_dir"]) as root, \
            _progress(enabled=not as_json and sys.stderr.isatty(), total=spec.steps) as tick:
        record = Supervisor(spec, dataclasses.replace(config, ckpt_root=root),
                            on_step=tick).run()
    report = build_report(record, steps=spec.steps, ranks=config.ranks,
                          ckpt_every=spec.ckpt_every, injections=config.injections)
    if record_path is not None:
        _write_run_record(record_path, options, final_weights_sha256=report.sha256)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload(report, spec, config, ckpt_dir=options["ckpt_dir"]))
    else:
        render(report, spec, config, ckpt_dir=options["ckpt_dir"])


def _write_run_record(path: Path, options: dict[str, Any], *,
                      final_weights_sha256: str | None) -> None:
    """The run's reproducibility record: its options as the configuration, the newest
    checkpoint (with --ckpt-dir) as the model, and the final weights' hash. The data is
    synthetic, generated from --seed, so the configuration versions it."""
    from mlfleet.ops.declare.record import build_record, configuration_of, write_record

    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()
                if k not in ("as_json", "record_path")}
    ckpt_dir = options["ckpt_dir"]
    kept = CheckpointStore(ckpt_dir).steps() if ckpt_dir is not None else []
    model = CheckpointStore(ckpt_dir).step_path(kept[-1]) if kept else None
    write_record(path, build_record(
        model=model, configuration=configuration_of({"run train": settings}), kind="training",
        extra={"data": f"synthetic, generated from seed {options['seed']}",
               "final_weights_sha256": final_weights_sha256}))


def validate(options: dict[str, Any]) -> tuple[TrainSpec, SupervisorConfig]:
    """The run's spec and supervisor config from the CLI options (InputError when bad)."""
    _check_numbers(ranks=options["ranks"], steps=options["steps"],
                   ckpt_every=options["ckpt_every"], batch=options["batch"], lr=options["lr"],
                   keep_last=options["keep_last"], keep_every=options["keep_every"],
                   max_restarts=options["max_restarts"])
    _check_elastic(elastic=options["elastic"], rescale_lr=options["rescale_lr"],
                   rejoin_after=options["rejoin_after"])
    injections = tuple(parse_injection(text) for text in options["inject"])
    check_injections(injections, ranks=options["ranks"], steps=options["steps"],
                     ckpt_every=options["ckpt_every"])
    hang_timeout_s = parse_quantity(options["hang_timeout"], "s")
    if not 0 < hang_timeout_s <= 3600:
        raise InputError(f"--hang-timeout(={options['hang_timeout']}) must be in (0, 1h]")
    if options["ckpt_dir"] is not None and not options["ckpt_dir"].strip():
        raise InputError(f"--ckpt-dir {options['ckpt_dir']!r} must name a directory")
    if options["ckpt_dir"] is not None:
        _check_ckpt_dir(Path(options["ckpt_dir"]), resume=options["resume"],
                        injections=injections)
        kept = CheckpointStore(options["ckpt_dir"]).steps()  # unwritable: one line, exit 2
        if options["resume"] and kept and kept[-1] > options["steps"]:
            raise InputError(f"--ckpt-dir {options['ckpt_dir']!r} holds a checkpoint of step "
                             f"{kept[-1]}, beyond --steps {options['steps']}")
    elif options["resume"]:
        raise InputError("--resume needs --ckpt-dir (the checkpoints to continue from)")
    spec = TrainSpec(steps=options["steps"], ckpt_every=options["ckpt_every"],
                     seed=options["seed"], per_rank_batch=options["batch"], lr=options["lr"],
                     async_ckpt=options["async_ckpt"], keep_last=options["keep_last"],
                     keep_every=options["keep_every"],
                     compression=None if options["compression"] == "none"
                     else options["compression"])
    config = SupervisorConfig(ranks=options["ranks"], ckpt_root=Path("."),
                              injections=injections, hang_timeout_s=hang_timeout_s,
                              max_restarts=options["max_restarts"], elastic=options["elastic"],
                              rescale_lr=options["rescale_lr"],
                              rejoin_after=options["rejoin_after"], resume=options["resume"],
                              inject_seed=options["seed"],
                              log_dir=check_log_dir(options.get("log_dir")))
    return spec, config

