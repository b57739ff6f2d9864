"""``mlfleet ops debug``: the debugging-at-scale commands, each imported when invoked."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

DEBUG_COMMANDS: dict[str, tuple[str, str, str]] = {
    "timeline": ("mlfleet.ops.debug.log_cli", "timeline_command",
                 "Merge per-rank logs into a Chrome/Perfetto trace (clocks aligned)."),
    "stragglers": ("mlfleet.ops.debug.log_cli", "stragglers_command",
                   "Ranks persistently slower than the others (robust z-score per step)."),
    "gradients": ("mlfleet.ops.debug.log_cli", "gradients_command",
                  "NaN/Inf, loss spikes and gradient-norm outliers per rank and step."),
    "changepoints": ("mlfleet.ops.debug.series_cli", "changepoints_command",
                     "Latency regressions in a metric series (CUSUM)."),
    "drift": ("mlfleet.ops.debug.series_cli", "drift_command",
              "Feature drift between two CSV files (PSI and KS per column)."),
    "staleness": ("mlfleet.ops.debug.series_cli", "staleness_command",
                  "Model staleness on a drifting stream; the retrain interval."),
    "demo": ("mlfleet.ops.debug.demo_cli", "demo_command",
             "A small real training with injected faults, and what each detector finds."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("debug", cls=LazyGroup, registry=DEBUG_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def debug_group() -> None:
    """Debugging at scale: per-rank timelines, stragglers, gradients, drift, staleness."""
