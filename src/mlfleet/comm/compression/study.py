"""The compression study: one real data-parallel run per method, loss vs bytes.

:func:`run_compression_study` is what ``mlfleet run compression`` calls. For
each method it runs :func:`~mlfleet.comm.compression.dp_train.train_rank` on
``ranks`` ranks — real processes over the socket (or torch) transport, or
threads over :mod:`~mlfleet.comm.compression.loopback` for quick tests — and
returns a JSON-ready dict: per method the final loss and accuracy, the bytes
each rank really sent, the (bytes, loss) curve, and for every codec run with
and without error feedback how much of the gap to dense the feedback closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from mlfleet.comm.compression.dp_task import TaskSpec
from mlfleet.comm.compression.dp_train import DPRunConfig, StepFn, report_step, train_rank
from mlfleet.comm.compression.loopback import run_loopback
from mlfleet.comm.compression.registry import ALL_METHODS, EF_SUFFIX, parse_method
from mlfleet.errors import InputError, RunError

MATERIAL_GAP = 0.01
"""Report a gap closure only where the plain codec's final loss exceeds dense by this fraction."""

BACKENDS = ("socket", "torch", "loopback")
"""Where ranks run: processes over mlfleet's TCP transport, over torch.distributed, or threads."""

StudyProgressFn = Callable[[int, int], None]
"""``(steps_done, steps_total)`` over every method of a study, e.g. to draw a progress bar."""


def run_compression_study(
    *,
    methods: Sequence[str] = ALL_METHODS,
    ranks: int = 4,
    steps: int = 300,
    seed: int = 0,
    backend: str = "socket",
    lr: float = 0.1,
    batch_per_rank: int = 32,
    eval_every: int = 10,
    codec_params: Mapping[str, Mapping[str, Any]] | None = None,
    task: TaskSpec | None = None,
    on_progress: StudyProgressFn | None = None,
) -> dict[str, Any]:
    """Train once per method and report loss/accuracy vs bytes sent (JSON-ready).

    ``codec_params`` maps a codec name (``"topk"``) to its keyword parameters.
    ``on_progress(done, total)`` hears the SGD steps done over all methods
    (``total`` = methods × ``steps``), every ``eval_every`` steps.
    Raises InputError for unknown methods or backends, RunError if a run fails
    or its ranks end with different parameters.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend(={backend!r}) must be one of {', '.join(BACKENDS)}")
    if ranks < 2:
        raise InputError(f"ranks(={ranks}) must be >= 2")
    task = task or TaskSpec()
    configs = [
        DPRunConfig(
            method=m,
            codec_params=dict((codec_params or {}).get(parse_method(m)[0], {})),
            steps=steps,
            seed=seed,
            lr=lr,
            batch_per_rank=batch_per_rank,
            eval_every=eval_every,
            task=task,
        )
        for m in methods
    ]
    total = len(configs) * steps
    rows = [
        _summarise(config, run_ranks(config, ranks=ranks, backend=backend,
                                     on_step=_offset(on_progress, done=i * steps, total=total)))
        for i, config in enumerate(configs)
    ]
    return {
        "fidelity": "run",
        "backend": backend,
        "ranks": ranks,
        "steps": steps,
        "seed": seed,
        "lr": lr,
        "batch_per_rank": batch_per_rank,
        "task": asdict(task),
        "n_params": task.n_params,
        "methods": rows,
        "ef_gap_closure": ef_gap_closure(rows),
    }


def _offset(on_progress: StudyProgressFn | None, *, done: int, total: int) -> StepFn | None:
    """One method's steps as steps of the whole study (None: nobody listens)."""
    if on_progress is None:
        return None
    return lambda step: on_progress(done + step, total)


def run_ranks(
    config: DPRunConfig,
    *,
    ranks: int,
    backend: str,
    timeout_s: float = 60.0,
    on_step: StepFn | None = None,
) -> list[dict[str, Any]]:
    """One data-parallel run: every rank's record, in rank order.

    ``socket``/``torch`` start ``ranks`` real processes (:func:`mlfleet.comm.launch.launch`);
    ``timeout_s`` bounds start-up and every wait on a peer. ``on_step(steps_done)`` hears
    rank 0's progress (see :func:`~mlfleet.comm.compression.dp_train.train_rank`).
    """
    if backend == "loopback":
        step_fn = on_step or report_step
        return run_loopback(ranks, lambda transport: train_rank(transport, config, step_fn))
    from mlfleet.comm.launch import launch

    def relay(rank: int, payload: dict[str, Any]) -> None:
        if on_step is not None and "step" in payload:
            on_step(int(payload["step"]))

    return launch(ranks, train_rank, backend=backend, args=(config,), timeout_s=timeout_s,
                  on_progress=None if on_step is None else relay)


def _summarise(config: DPRunConfig, records: list[dict[str, Any]]) -> dict[str, Any]:
    digests = {r["params_sha256"] for r in records}
    if len(digests) != 1:
        raise RunError(
            f"method {config.method!r}: ranks ended with different parameters "
            f"({len(digests)} digests)"
        )
    codec, ef = parse_method(config.method)
    # Parameters are identical on every rank, so are losses; bytes differ by a chunk or so
    # (ring chunking), and the busiest rank is the one that sets the pace.
    first = max(records, key=lambda r: r["bytes_sent"])
    last = first["curve"][-1]
    return {
        "method": config.method,
        "codec": codec,
        "error_feedback": ef,
        "codec_params": dict(config.codec_params),
        "compression_ratio": first["compression_ratio"],
        "bytes_sent_per_rank": first["bytes_sent"],
        "final_loss": last["loss"],
        "final_accuracy": last["accuracy"],
        "exchange_s": max(r["exchange_s"] for r in records),
        "loss_vs_bytes": [[p["bytes_sent"], p["loss"]] for p in first["curve"]],
        "curve": first["curve"],
    }


def ef_gap_closure(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per codec run with and without ``+ef`` (and a dense run): the share of the loss gap closed.

    closure = (L_plain − L_ef) / (L_plain − L_dense) on final training loss: 1 means error
    feedback recovers dense, 0 nothing, negative worse. Left out where the plain codec
    is within :data:`MATERIAL_GAP` of dense (no gap worth closing: the ratio is noise).
    """
    final = {row["method"]: float(row["final_loss"]) for row in rows}
    if "dense" not in final:
        return {}
    out: dict[str, dict[str, float]] = {}
    for method, plain in final.items():
        ef = final.get(method + EF_SUFFIX)
        gap = plain - final["dense"]
        if method.endswith(EF_SUFFIX) or ef is None or gap <= MATERIAL_GAP * final["dense"]:
            continue
        out[method] = {
            "loss_dense": final["dense"],
            "loss_plain": plain,
            "loss_ef": ef,
            "closure": (plain - ef) / gap,
        }
    return out
