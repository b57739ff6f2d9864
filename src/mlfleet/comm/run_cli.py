"""``mlfleet run collective``: nccl-tests for mlfleet's own collective algorithms.

    mlfleet run collective allreduce --algo ring --ranks 4 --sizes 4K:64M
    mlfleet run collective alltoall --ranks 8 --sizes 1M --hot-fraction 0.5 --json
    mlfleet run collective allreduce --backend torch --algo builtin     # gloo's own

Per size: the time of a call (the slowest rank's, median over ``--repeats``),
algbw = S/t, busbw = algbw × the nccl-tests factor (AllReduce 2(n-1)/n;
AllGather, ReduceScatter, AlltoAll (n-1)/n; Broadcast, Reduce 1), the cost
model's prediction with α and B measured on a ring step (every rank at once) in
the same run (or given with ``--alpha``/``--bw``) and its relative error, whether
every rank's output is bit-identical to the collective's definition, and whether
the payload bytes each rank sent equal the algorithm's ``predicted_bytes_sent``.
``--hosts NAME`` runs rank i on host i of an emulated lab (``mlfleet lab``).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
import numpy as np

from mlfleet.comm.algorithms.benchmark import CollectiveJob, RankResult, job_params
from mlfleet.comm.algorithms.definition import COLLECTIVES
from mlfleet.comm.algorithms.registry import (
    DEFAULT_ALGORITHM,
    check_collective,
    get_algorithm,
    predicted_bytes_sent,
)
from mlfleet.comm.launch import BACKENDS, HostSpec, launch, resolve_hosts
from mlfleet.comm.run_memory import check_run_memory
from mlfleet.errors import InputError
from mlfleet.host_memory import available_bytes
from mlfleet.units import parse_quantity

MAX_RANKS = 64
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8")
"""Element types ``--dtype`` takes."""
# mlfleet algorithm -> (cost-model collective, cost-model algorithm); missing: no model.
MODEL_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("allreduce", "ring"): ("allreduce", "ring"),
    ("allreduce", "binomial"): ("allreduce", "tree"),
    ("allreduce", "rhd"): ("allreduce", "rabenseifner"),
    ("allreduce", "hierarchical"): ("allreduce", "hierarchical"),
    ("allreduce", "ps"): ("allreduce", "parameter_server"),
    ("allgather", "ring"): ("allgather", "ring"),
    ("reducescatter", "ring"): ("reduce_scatter", "ring"),
    ("alltoall", "pairwise"): ("alltoall", "pairwise"),
    ("broadcast", "binomial"): ("broadcast", "binomial"),
    ("reduce", "binomial"): ("reduce", "binomial"),
}
BUS_FACTOR: dict[str, Callable[[int], float]] = {
    "allreduce": lambda n: 2.0 * (n - 1) / n,
    "allgather": lambda n: (n - 1) / n,
    "reducescatter": lambda n: (n - 1) / n,
    "alltoall": lambda n: (n - 1) / n,
    "broadcast": lambda n: 1.0,
    "reduce": lambda n: 1.0,
}


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"4K:64M"`` (doubling, inclusive), ``"1K,1M"`` or ``"4096"`` -> sizes in bytes (> 0)."""
    def one(part: str) -> int:
        value = parse_quantity(part.strip(), "bytes")
        if value <= 0 or value != int(value):
            raise InputError(f"--sizes: {part!r} must be a whole number of bytes > 0")
        return int(value)

    if ":" in text:
        start_text, _, end_text = text.partition(":")
        start, end = one(start_text), one(end_text)
        if start <= 0 or end < start:
            raise InputError(f"--sizes {text!r}: a range START:END needs 0 < START <= END")
        sizes = [start]
        while sizes[-1] * 2 <= end:
            sizes.append(sizes[-1] * 2)
        return tuple(sizes)
    return tuple(one(part) for part in text.split(",") if part.strip())


def parse_ranks(text: str) -> int:
    """``--ranks``: an integer in 2..MAX_RANKS.

    One rank is refused: a collective on one rank sends nothing, so it would time a
    local copy and report an infinite bus bandwidth, and no cost model is defined.
    """
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 2 <= n <= MAX_RANKS:
        raise InputError(f"--ranks {text!r} must be an integer in 2..{MAX_RANKS} (a collective "
                         "needs at least two ranks)")
    return n


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise InputError(f"{name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _dtype(text: str) -> str:
    """``--dtype``: one of :data:`DTYPES` (both transports and torch's builtins carry them)."""
    try:
        name = np.dtype(text).name
    except TypeError:
        name = text
    if name not in DTYPES:
        raise InputError(f"--dtype {text!r} must be a numeric dtype, one of: {', '.join(DTYPES)}")
    return name


def _check_whole_elements(sizes_bytes: Sequence[int], dtype: str) -> None:
    itemsize = np.dtype(dtype).itemsize
    for size in sizes_bytes:
        if size % itemsize:
            raise InputError(f"--sizes: {size} bytes is not a whole number of {dtype} elements "
                             f"({itemsize} bytes each)")


def check_for_ranks(job: CollectiveJob, n_ranks: int) -> None:
    """InputError for parameters the rank count rules out, before any process starts."""
    root = job.params.get("root")
    if root is not None and not 0 <= root < n_ranks:
        raise InputError(f"--root {root} must be a rank in 0..{n_ranks - 1} "
                         f"(--ranks {n_ranks})")
    per_node = job.params.get("ranks_per_node")
    if per_node is not None and (per_node < 1 or n_ranks % per_node):
        raise InputError(f"--ranks-per-node {per_node} must divide --ranks {n_ranks}")


def build_job(collective: str, *, algo: str | None, sizes: str, dtype: str, repeats: int,
              warmup: int, params: dict[str, Any], hot_fraction: float | None,
              check: bool, calibrate: bool, iters: int = 1) -> CollectiveJob:
    """Validate CLI values into a :class:`CollectiveJob` (InputError on bad input)."""
    check_collective(collective)
    algorithm = get_algorithm(collective, algo or DEFAULT_ALGORITHM[collective])
    if repeats < 1 or warmup < 0:
        raise InputError(f"--repeats(={repeats}) must be >= 1 and --warmup(={warmup}) >= 0")
    if iters < 1:
        raise InputError(f"--iters(={iters}) must be >= 1 (calls per timed repeat)")
    if hot_fraction is not None and collective != "alltoall":
        raise InputError("--hot-fraction applies to alltoall only")
    sizes_bytes, dtype_name = parse_sizes(sizes), _dtype(dtype)
    _check_whole_elements(sizes_bytes, dtype_name)
    return CollectiveJob(collective=collective, algorithm=algorithm.name,
                         sizes_bytes=sizes_bytes, dtype=dtype_name, repeats=repeats,
                         warmup=warmup, params=params, hot_fraction=hot_fraction, check=check,
                         calibrate=calibrate, iters=iters)


def model_time_s(job: CollectiveJob, n_ranks: int, size_bytes: int,
                 link: tuple[float, float] | None) -> float | None:
    """The cost model's seconds for one call, or None (no model, no link, or no cost module)."""
    names = MODEL_NAMES.get((job.collective, job.algorithm))
    if names is None or link is None or n_ranks < 2:
        return None
    try:
        from mlfleet.comm.cost import collective_time
    except ImportError:
        return None
    if (job.collective, job.algorithm) == ("allreduce", "ring"):
        return _pipelined_ring_s(job, n_ranks, size_bytes, link)
    extra: dict[str, Any] = {}
    if job.algorithm == "hierarchical":
        extra["ranks_per_node"] = job.params.get("ranks_per_node", 2)
    if job.algorithm == "ps":
        extra["servers"] = job.params.get("n_servers", 1)
    try:
        return float(collective_time(names[0], names[1], n_ranks, size_bytes, alpha_s=link[0],
                                     bw_bytes_per_s=link[1], **extra))
    except Exception:  # noqa: BLE001 - a model that refuses a point leaves the column empty
        return None


def _pipelined_ring_s(job: CollectiveJob, n_ranks: int, size_bytes: int,
                      link: tuple[float, float]) -> float:
    """The ring as it runs: its chunks cut into the blocks the algorithm will use."""
    from mlfleet.comm.algorithms.ring import pipeline_blocks
    from mlfleet.comm.cost.allreduce import pipelined_ring_allreduce_time

    blocks = job.params.get("blocks") or pipeline_blocks(-(-size_bytes // n_ranks))
    return float(pipelined_ring_allreduce_time(n_ranks, size_bytes, alpha_s=link[0],
                                               bw_bytes_per_s=link[1], blocks=blocks))


def summarise(job: CollectiveJob, results: Sequence[RankResult], *,
              link: tuple[float, float] | None) -> list[dict[str, Any]]:
    """One row per size from every rank's results (see the module docstring)."""
    n = len(results)
    rows = []
    for i, size_bytes in enumerate(job.sizes_bytes):
        per_rank = [r.sizes[i] for r in results]
        first = per_rank[0]
        slowest = [max(r.times_s[k] for r in per_rank) for k in range(job.repeats)]
        time_s = statistics.median(slowest)
        algbw = first.size_bytes / time_s if time_s > 0 else float("inf")
        predicted = model_time_s(job, n, first.size_bytes, link)
        rows.append({
            "size_bytes": first.size_bytes, "requested_bytes": size_bytes,
            "count": first.numel, "time_s": time_s, "algbw_bytes_per_s": algbw,
            "busbw_bytes_per_s": algbw * BUS_FACTOR[job.collective](n),
            "predicted_s": predicted,
            "model_error": None if predicted is None else (predicted - time_s) / time_s,
            "correct": None if first.correct is None else all(r.correct for r in per_rank),
            "bytes_sent": [r.bytes_sent for r in per_rank],
            "bytes_exact": _bytes_exact(job, n, first.numel, [r.bytes_sent for r in per_rank]),
        })
    return rows


def _bytes_exact(job: CollectiveJob, n: int, numel: int,
                 measured: list[dict[int, int]]) -> bool | None:
    if get_algorithm(job.collective, job.algorithm).predicted_bytes_sent is None:
        return None
    predicted = predicted_bytes_sent(job.collective, job.algorithm, n, numel,
                                     np.dtype(job.dtype).itemsize,
                                     **job_params(job, n, numel))
    return predicted == measured


def render(job: CollectiveJob, rows: list[dict[str, Any]], *, n_ranks: int, backend: str,
           link: tuple[float, float] | None, link_source: str) -> None:
    """The human table on stdout."""
    from mlfleet.report.terminal import print_table
    from mlfleet.units import format_bytes, format_duration, format_rate

    def maybe(value: Any, fmt: Callable[[Any], str]) -> str:
        return "n/a" if value is None else fmt(value)

    def flag(value: bool | None) -> str:
        return "-" if value is None else ("ok" if value else "WRONG")

    table = [[format_bytes(r["size_bytes"]), f"{r['count']:,}", format_duration(r["time_s"]),
              format_rate(r["algbw_bytes_per_s"]), format_rate(r["busbw_bytes_per_s"]),
              maybe(r["predicted_s"], format_duration),
              maybe(r["model_error"], lambda e: f"{e:+.0%}"), flag(r["correct"]),
              flag(r["bytes_exact"])] for r in rows]
    link_text = ("link n/a" if link is None else
                 f"α={format_duration(link[0])} B={format_rate(link[1])} ({link_source})")
    title = (f"{job.collective}/{job.algorithm} on {n_ranks} ranks, {backend} backend, "
             f"{job.dtype}, median of {job.repeats}"
             + (f" windows of {job.iters} calls" if job.iters > 1 else "")
             + f"; model {link_text}")
    print_table(["size", "count", "time", "algbw", "busbw", "model", "model err", "check",
                 "bytes"], table, title=title)


def payload(job: CollectiveJob, rows: list[dict[str, Any]], *, n_ranks: int, backend: str,
            link: tuple[float, float] | None, link_source: str) -> dict[str, Any]:
    """The ``--json`` document."""
    return {
        "fidelity": "run", "collective": job.collective, "algorithm": job.algorithm,
        "backend": backend, "ranks": n_ranks, "dtype": job.dtype, "repeats": job.repeats,
        "iters": job.iters,
        "warmup": job.warmup, "params": dict(job.params), "hot_fraction": job.hot_fraction,
        "link": None if link is None else {"alpha_s": link[0], "bw_bytes_per_s": link[1],
                                           "source": link_source},
        "model": "mlfleet.comm.cost.collective_time (fidelity: model)",
        "rows": rows,
    }


def job_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("collective", metavar=f"{{{','.join(COLLECTIVES)}}}"),
        click.option("--algo", default=None, help="Algorithm (default: ring / pairwise / "
                     "binomial); 'builtin' = torch.distributed's own (torch backend)."),
        click.option("--sizes", default="4K:64M", show_default=True,
                     help="START:END doubling, or a comma list (4K = 4096 bytes)."),
        click.option("--backend", default="socket", show_default=True,
                     help=f"Transport: {', '.join(BACKENDS)}."),
        click.option("--repeats", default=5, show_default=True, type=int),
        click.option("--warmup", default=1, show_default=True, type=int),
        click.option("--iters", default=1, show_default=True, type=int,
                     help="Calls back to back per timed repeat (nccl-tests -n); the time is "
                     "per call, so the ranks' start skew is spread over them."),
        click.option("--dtype", default="float32", show_default=True),
        click.option("--root", default=None, type=int, help="Broadcast/Reduce root rank."),
        click.option("--ranks-per-node", default=None, type=int, help="hierarchical: g."),
        click.option("--mode", default=None, help="hierarchical: shard or leader."),
        click.option("--blocks", default=None, type=int,
                     help="ring: blocks per chunk to pipeline (default: by chunk size; 1: off)."),
        click.option("--servers", "n_servers", default=None, type=int,
                     help="ps: number of server ranks."),
        click.option("--hot-fraction", default=None, type=float,
                     help="alltoall: share of every rank's data sent to rank 0 (MoE skew)."),
        click.option("--alpha", default=None, help="Model latency α (e.g. 20us); "
                     "default: measured on a ring step, every rank at once."),
        click.option("--bw", default=None, help="Model bandwidth B (e.g. 1GB/s, 10gbit)."),
        click.option("--no-check", is_flag=True, help="Skip the comparison with the definition."),
        click.option("--timeout", default="60s", show_default=True,
                     help="Fail if a peer is silent this long."),
        click.option("--json", "as_json", is_flag=True, help="JSON on stdout."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.command("collective")
@job_options
@click.option("--ranks", "-n", "ranks", default="4", show_default=True,
              help="Processes, 2..64 (a collective needs two ranks).")
@click.option("--latency", default="0", show_default=True,
              help="Injected per-message latency (socket backend), e.g. 50us.")
@click.option("--hosts", default=None, help="Run on the hosts of this emulated lab.")
@click.option("--log-dir", default=None, help="Write per-rank span logs here "
              "(rank-NNNNN.jsonl; read them with mlfleet ops debug).")
def collective_command(collective: str, ranks: str, latency: str, hosts: str | None,
                       log_dir: str | None, **options: Any) -> None:
    """Measure a collective over a range of sizes on N real processes."""
    import dataclasses

    from mlfleet.ops.debug.rank_log import check_log_dir, make_log_dir

    n_ranks = parse_ranks(ranks)
    job, backend, timeout_s, given_link, as_json = resolve_options(collective, options)
    log_path = check_log_dir(log_dir)
    check_for_ranks(job, n_ranks)
    check_run_memory(job, n_ranks, available_bytes())
    latency_s = parse_quantity(latency, "s")
    host_specs: list[HostSpec] | None = resolve_hosts(hosts) if hosts is not None else None
    if host_specs is not None and len(host_specs) < n_ranks:
        raise InputError(f"lab {hosts!r} has {len(host_specs)} hosts; --ranks {n_ranks} "
                         "needs one per rank")
    if log_path is not None:
        make_log_dir(log_path)
        job = dataclasses.replace(job, log_dir=str(log_path.resolve()))
    with _progress(enabled=not as_json and sys.stderr.isatty(), total=len(job.sizes_bytes)) as tick:
        results = launch(n_ranks, "mlfleet.comm.algorithms.benchmark:measure_collective",
                         args=(job,), backend=backend, hosts=host_specs, timeout_s=timeout_s,
                         latency_s=latency_s, on_progress=lambda rank, p: tick(p))
    report_results(job, results, backend=backend, given_link=given_link, as_json=as_json,
                   lab=lab_record(hosts) if hosts is not None else None)


def lab_record(name: str) -> dict[str, Any]:
    """The lab a run used, as its output records it: name, shaped rate, MTU, hosts."""
    from mlfleet.comm.lab import find_lab, payload_rate_bytes_per_s

    state = find_lab(name)
    return {"name": state.name, "rate_bytes_per_s": state.rate_bytes_per_s,
            "payload_rate_bytes_per_s": payload_rate_bytes_per_s(state.rate_bytes_per_s,
                                                                 state.mtu_bytes),
            "mtu_bytes": state.mtu_bytes, "hosts": len(state.hosts)}


def resolve_options(collective: str, options: dict[str, Any]) -> tuple[
        CollectiveJob, str, float, tuple[float, float] | None, bool]:
    backend = _choice("--backend", options["backend"], BACKENDS)
    given_link = _given_link(options["alpha"], options["bw"])
    params = {"root": options["root"], "ranks_per_node": options["ranks_per_node"],
              "mode": options["mode"], "n_servers": options["n_servers"],
              "blocks": options["blocks"]}
    algorithm = get_algorithm(check_collective(collective),
                              options["algo"] or DEFAULT_ALGORITHM[collective])
    if backend not in algorithm.backends:
        raise InputError(f"--algo {algorithm.name!r} needs --backend "
                         f"{' or '.join(algorithm.backends)}")
    given = {k: v for k, v in params.items() if v is not None}
    if given.get("blocks", 1) < 1:
        raise InputError(f"--blocks {given['blocks']} must be >= 1 (blocks per ring chunk; "
                         "1: no pipelining)")
    unknown = sorted(set(given) - set(algorithm.params))
    if unknown:
        flag = "--" + unknown[0].replace("_", "-").replace("n-servers", "servers")
        raise InputError(f"{flag} does not apply to {collective}/{algorithm.name}")
    job = build_job(collective, algo=algorithm.name, sizes=options["sizes"],
                    dtype=options["dtype"], repeats=options["repeats"],
                    warmup=options["warmup"], params=given, iters=options["iters"],
                    hot_fraction=options["hot_fraction"], check=not options["no_check"],
                    calibrate=given_link is None and (collective, algorithm.name) in MODEL_NAMES)
    timeout_s = parse_quantity(options["timeout"], "s")
    if timeout_s <= 0:
        raise InputError(f"--timeout {options['timeout']!r} must be > 0")
    return job, backend, timeout_s, given_link, bool(options["as_json"])


def _given_link(alpha: str | None, bw: str | None) -> tuple[float, float] | None:
    if alpha is None and bw is None:
        return None
    if alpha is None or bw is None:
        raise InputError("--alpha and --bw go together (or give neither to measure them)")
    alpha_s, bw_bytes_per_s = parse_quantity(alpha, "s"), parse_quantity(bw, "bytes_per_s")
    if alpha_s < 0 or bw_bytes_per_s <= 0:
        raise InputError(f"--alpha(={alpha}) must be >= 0 and --bw(={bw}) > 0")
    return alpha_s, bw_bytes_per_s


def report_results(job: CollectiveJob, results: Sequence[RankResult], *, backend: str,
                   given_link: tuple[float, float] | None, as_json: bool,
                   lab: dict[str, Any] | None = None) -> None:
    """Print the rows (``lab``: the emulated lab the ranks ran on, see :func:`lab_record`);
    raises :class:`RunError` when an output differs from the definition."""
    link = given_link if given_link is not None else results[0].link
    source = "given" if given_link is not None else "measured ring step"
    rows = summarise(job, results, link=link)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload(job, rows, n_ranks=len(results), backend=backend, link=link,
                          link_source=source) | {"lab": lab})
    else:
        render(job, rows, n_ranks=len(results), backend=backend, link=link, link_source=source)
        if lab is not None:
            from mlfleet.units import format_rate

            click.echo(f"lab {lab['name']}: {lab['hosts']} hosts, every link shaped to "
                       f"{format_rate(lab['rate_bytes_per_s'])} each way (TCP payload "
                       f"{format_rate(lab['payload_rate_bytes_per_s'])}), MTU {lab['mtu_bytes']}")
    if any(r["correct"] is False for r in rows):
        from mlfleet.errors import RunError

        raise RunError(f"{job.collective}/{job.algorithm}: output differs from the definition")


class _progress:
    """A rich progress bar on stderr (or nothing); the context value advances it."""

    def __init__(self, *, enabled: bool, total: int, label: str = "sizes") -> None:
        self.enabled, self.total, self.label = enabled, total, label
        self.bar: Any = None

    def __enter__(self) -> Callable[[dict[str, Any]], None]:
        if not self.enabled:
            return lambda payload: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=True)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda payload: self.bar.update(task, completed=payload.get("done", 0))

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@click.command("compression")
@click.option("--methods", default=None,
              help="Comma list, e.g. dense,topk,topk+ef (default: every method).")
@click.option("--ranks", "-n", default=4, show_default=True, type=int, help="Processes.")
@click.option("--steps", default=300, show_default=True, type=int, help="SGD steps.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--backend", default="socket", show_default=True,
              type=click.Choice(["socket", "torch", "loopback"]))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compression_command(methods: str | None, ranks: int, steps: int, seed: int, backend: str,
                        as_json: bool) -> None:
    """Data-parallel training with each gradient compressor: loss and accuracy vs bytes sent.

    A small MLP on seeded synthetic data, RANKS real processes exchanging compressed
    gradients over the transport; bytes are the transport's exact counters.
    """
    from mlfleet.comm.compression.registry import ALL_METHODS
    from mlfleet.comm.compression.study import run_compression_study

    if steps < 1:
        raise InputError(f"--steps(={steps}) must be >= 1")
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else ALL_METHODS
    with _progress(enabled=not as_json and sys.stderr.isatty(), total=len(chosen) * steps,
                   label="SGD steps") as tick:
        result = run_compression_study(methods=chosen, ranks=ranks, steps=steps, seed=seed,
                                       backend=backend,
                                       on_progress=lambda done, total: tick({"done": done}))
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(result)
        return
    from mlfleet.report.terminal import print_table

    rows = [[m["method"], f"{m['compression_ratio']:.3g}", f"{m['bytes_sent_per_rank']:,}",
             f"{m['final_loss']:.4f}", f"{m['final_accuracy']:.3f}"] for m in result["methods"]]
    print_table(["method", "ratio", "bytes sent / rank", "final loss", "accuracy"], rows,
                title=f"compression study: {ranks} ranks ({backend}), {steps} steps, seed {seed}")
