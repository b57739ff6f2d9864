"""``mlfleet serve``: run the real inference server until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlfleet.entry import run_command
from mlfleet.errors import InputError
from mlfleet.serving.server.admission import make_policy
from mlfleet.serving.server.config import (
    ContinuousBatchingConfig,
    DynamicBatchingConfig,
    ServerConfig,
)
from mlfleet.serving.server.draining import DEFAULT_DRAIN_S, READINESS_CHECK, StopSignals
from mlfleet.serving.server.resilience_options import (
    rank_fallback_from_options,
    resilience_options,
)
from mlfleet.units import duration_option

if TYPE_CHECKING:
    from mlfleet.serving.fleet.spec import FleetSpec


async def serve(config: ServerConfig, *, announce: bool = True,
                on_ready: Callable[[str], None] | None = None,
                drain_s: float = DEFAULT_DRAIN_S) -> None:
    """Serve ``config`` until SIGINT or SIGTERM; prints the bound URL, then ``ready``;
    ``on_ready(url)`` runs once the models are loaded, before ``ready`` is printed.
    SIGTERM drains for ``drain_s`` first (:mod:`.draining`)."""
    from aiohttp import web

    from mlfleet.serving.server.app import STATE, create_app, wait_ready

    app = create_app(config)
    signals = StopSignals(drain_s=drain_s)
    app[STATE].readiness_checks[READINESS_CHECK] = signals.ready
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise InputError(f"cannot bind {config.host}:{config.port}: {exc.strerror}") from None
    signals.install(asyncio.get_running_loop())
    port = runner.addresses[0][1] if runner.addresses else config.port
    if announce:
        click.echo(f"mlfleet serve: listening on http://{config.host}:{port}", err=True)
    try:
        await wait_ready(app)
        if on_ready is not None:
            on_ready(f"http://{config.host}:{port}")
        if announce:
            click.echo(f"mlfleet serve: ready on http://{config.host}:{port}", err=True)
        await signals.stop.wait()
    finally:
        await runner.cleanup()


def _parse_params(pairs: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """``("rate_per_s=100", "cost=tokens")`` -> ``(("rate_per_s", 100), ("cost", "tokens"))``."""
    out: list[tuple[str, Any]] = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--admission-param(={pair!r}) must look like KEY=VALUE")
        value: Any = raw
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
        out.append((key, value))
    return tuple(out)


def _check_device(name: str) -> None:
    """Refuse a device this machine lacks before binding: no half-started server."""
    from mlfleet.serving.server.runner import check_device  # imports torch: only when serving

    check_device(name)


def _apply_process_settings(torch_threads: int) -> None:
    """One intra-op thread: batch times stay stable beside the event loop thread."""
    import torch

    torch.set_num_threads(torch_threads)
    # Hand the GIL back quickly between the loop thread and the worker thread.
    sys.setswitchinterval(0.0005)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--device", default="auto", show_default=True,
              help="auto (CUDA when present), cpu, cuda, cuda:N; a GPU this machine lacks "
                   "is refused.")
@click.option("--max-batch", default=16, show_default=True, type=int,
              help="Rank path: most requests per batch.")
@click.option("--max-delay-ms", default=4.0, show_default=True, type=float,
              help="Rank path: longest the oldest request waits for a fuller batch.")
@click.option("--queue-capacity", default=64, show_default=True, type=int,
              help="Rank path: most waiting requests before 429.")
@click.option("--max-running", default=16, show_default=True, type=int,
              help="Generate path: most sequences decoding at once.")
@click.option("--generate-queue-capacity", default=64, show_default=True, type=int,
              help="Generate path: most waiting sequences before 429.")
@click.option("--max-body-bytes", default=64 * 1024, show_default=True, type=int,
              help="Largest request body (413 above).")
@click.option("--default-deadline-ms", default=None, type=float,
              help="Deadline for requests that carry none (504 if still queued).")
@click.option("--admission", default=None,
              help="Shared admission policy behind the queue bound: token_bucket, priority, "
                   "queue_depth, coalescing.")
@click.option("--admission-param", "admission_params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of --admission (repeatable), e.g. rate_per_s=100.")
@click.option("--torch-threads", default=1, show_default=True, type=int,
              help="torch intra-op threads.")
@click.option("--trace-ranker/--eager-ranker", default=False, show_default=True,
              help="Run the ranker as a TorchScript trace (GIL taken once per batch, not "
                   "once per op), or op by op in eager mode.")
@click.option("--model-version", default=None,
              help="The model version /v1/info reports (mlfleet ops diff checks it).")
@click.option("--scenario", "scenario", default=None, metavar="FILE",
              help="Apply the scenario's deployment: section (a file or a bundled example); "
                   "options given explicitly override it, and say so.")
@click.option("--record", "record", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write a reproducibility record (code, environment, "
                                 "configuration) here once the server is ready.")
@click.option("--replicas", default=1, show_default=True, type=int,
              help="Run N servers behind a load balancer (--lb); --port is then its port.")
@click.option("--lb", "lb", default=None,
              help="Load balancer in front of --replicas: haproxy (the default when N > 1).")
@click.option("--balance", default="random2", show_default=True,
              help="HAProxy policy: random2 (power of two choices), leastconn, roundrobin, "
                   "hash (consistent hashing on the user of a /v1/rank body).")
@click.option("--drain", "drain", default="2s", show_default=True, metavar="DURATION",
              help="On SIGTERM: readiness 503 at once, keep serving this long so the load "
                   "balancer stops sending, then finish in-flight requests and exit 0 "
                   "(0: stop at once). Ctrl-C or a second SIGTERM stops at once.")
@resilience_options
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, device: str, max_batch: int,
                  max_delay_ms: float, queue_capacity: int, max_running: int,
                  generate_queue_capacity: int, max_body_bytes: int,
                  default_deadline_ms: float | None, admission: str | None,
                  admission_params: tuple[str, ...], torch_threads: int, trace_ranker: bool,
                  model_version: str | None, scenario: str | None, record: Path | None,
                  replicas: int, lb: str | None, balance: str, drain: str, fallback: bool,
                  fault: str,
                  fault_delay_ms: float, fault_fraction: float) -> None:
    """Serve a tiny GPT (continuous batching) and a ranker (dynamic batching) over HTTP.

    Endpoints: POST /v1/rank, POST /v1/generate, GET /healthz, /readyz, /metrics,
    /v1/stats, /v1/info. Stops on Ctrl-C / SIGTERM. With --replicas N (and --lb haproxy),
    N such servers run behind HAProxy on loopback (docs/serving-fleet.md).
    """
    if torch_threads < 1:
        raise InputError(f"--torch-threads(={torch_threads}) must be >= 1")
    drain_s = duration_option("--drain", drain, allow_zero=True)
    fleet = _fleet_spec(ctx, replicas=replicas, lb=lb, balance=balance, port=port)
    if fleet is not None:
        _check_device(device)
        serve_fleet(fleet)
        return
    config = ServerConfig(
        host=host, port=port, device=device, max_body_bytes=max_body_bytes,
        default_deadline_s=None if default_deadline_ms is None else default_deadline_ms / 1e3,
        rank=DynamicBatchingConfig(max_batch_size=max_batch, max_queue_delay_s=max_delay_ms / 1e3,
                                   queue_capacity=queue_capacity, trace_model=trace_ranker),
        generate=ContinuousBatchingConfig(max_running=max_running,
                                          queue_capacity=generate_queue_capacity),
        admission=admission, admission_params=_parse_params(admission_params),
        model_version=model_version, rank_fallback=rank_fallback_from_options(ctx.params))
    declared = None
    if scenario is not None:
        from mlfleet.ops.declare.apply import apply_scenario

        config, declared = apply_scenario(ctx, scenario, config)
    make_policy(config.admission, dict(config.admission_params))  # bad names fail here, early
    _check_device(config.device)
    _apply_process_settings(torch_threads)
    if record is None:
        asyncio.run(serve(config, drain_s=drain_s))
        return
    from mlfleet.ops.declare.apply import deployment_recorder

    asyncio.run(serve(config, on_ready=deployment_recorder(record, config, declared),
                      drain_s=drain_s))


_FLEET_OWN = ("host", "port", "replicas", "lb", "balance", "record")
"""Options the fleet sets itself (or refuses): never forwarded to the replicas."""


def _fleet_spec(ctx: click.Context, *, replicas: int, lb: str | None, balance: str,
                port: int) -> FleetSpec | None:
    """The fleet to run, or None for a single server; InputError for a bad combination."""
    from mlfleet.checks import one_of, positive_int
    from mlfleet.errors import ServingInputError
    from mlfleet.serving.fleet.spec import BALANCES, FleetSpec

    positive_int("--replicas", replicas, error=ServingInputError)
    one_of("--balance", balance, BALANCES, error=ServingInputError)
    if lb is None and replicas == 1:
        return None
    one_of("--lb", "haproxy" if lb is None else lb, ("haproxy",), error=ServingInputError)
    if ctx.params.get("record") is not None:
        raise ServingInputError("--record writes one server's record: not with --replicas/--lb")
    if ctx.params["host"] != "127.0.0.1":
        raise ServingInputError(f"--host(={ctx.params['host']!r}) must be 127.0.0.1 with "
                                "--replicas/--lb: the fleet listens on loopback only")
    return FleetSpec(replicas=replicas, balance=balance, frontend_port=port,
                     server_args=_replica_args(ctx))


def _replica_args(ctx: click.Context) -> tuple[str, ...]:
    """The options the user gave explicitly, as arguments for each replica."""
    args: list[str] = []
    for param in ctx.command.params:
        name = param.name or ""
        if name in _FLEET_OWN or not isinstance(param, click.Option) \
                or ctx.get_parameter_source(name) != click.core.ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[name]
        if param.is_flag:
            args.append(param.opts[0] if value else param.secondary_opts[0])
        else:
            args += [item for v in (value if param.multiple else (value,))
                     for item in (param.opts[0], str(v))]
    return tuple(args)


def serve_fleet(spec: FleetSpec) -> None:
    """Run ``spec`` in the foreground until Ctrl-C / SIGTERM (the fuzz sandbox patches this)."""
    from mlfleet.serving.fleet.foreground import run_fleet

    run_fleet(spec, echo=lambda line: click.echo(line, err=True))


def main() -> int:
    """``python -m mlfleet.serving.server``: the same command without the ``mlfleet`` group."""
    return run_command(serve_command, None, prog_name="mlfleet serve")
