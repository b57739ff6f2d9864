"""``mlfleet serve`` options for the rank path's fallback chain and an injected fault.

The serve command adds them with ``@resilience_options`` (its signature gains the
parameters in :data:`NAMES`) and turns what they parsed into its config with
``rank_fallback=rank_fallback_from_options(ctx.params)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from mlfleet.checks import fraction, non_negative
from mlfleet.serving.server.resilience_config import FAULT_MODES, FaultSpec, RankFallbackConfig

F = TypeVar("F", bound=Callable[..., Any])
NAMES = ("fallback", "fault", "fault_delay_ms", "fault_fraction")
"""The parameters these options add to the command."""


def resilience_options(command: F) -> F:
    """Add ``--fallback``, ``--fault``, ``--fault-delay-ms`` and ``--fault-fraction``."""
    options = [
        click.option("--fallback/--no-fallback", default=False, show_default=True,
                     help="Rank path: circuit breaker and bulkhead on the ranker, with a "
                          "fallback chain (popularity scorer, cached reply, default) when "
                          "it is open, full or failing; replies say X-Served-By."),
        click.option("--fault", type=click.Choice(FAULT_MODES), default="none",
                     show_default=True,
                     help="Inject a fault into the ranker from the start (tests, chaos); "
                          "POST /admin/fault (loopback only) changes it at run time."),
        click.option("--fault-delay-ms", type=float, default=0.0, show_default=True,
                     help="--fault slow: extra delay per ranker call."),
        click.option("--fault-fraction", type=float, default=1.0, show_default=True,
                     help="Share of rank requests the fault hits."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def rank_fallback_from_options(params: Mapping[str, Any]) -> RankFallbackConfig:
    """The config the parsed options describe; InputError naming the flag if bad."""
    delay_ms = non_negative("--fault-delay-ms", params["fault_delay_ms"])
    share = fraction("--fault-fraction", params["fault_fraction"])
    fault = FaultSpec(mode=params["fault"], delay_s=delay_ms / 1e3, fraction=share)
    return RankFallbackConfig(enabled=bool(params["fallback"]), fault=fault)
