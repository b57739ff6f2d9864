"""``mlfleet ops experiment``: the experimentation commands, each imported when invoked."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

EXPERIMENT_COMMANDS: dict[str, tuple[str, str, str]] = {
    "split": ("mlfleet.ops.experiment.split_cli", "split_command",
              "Assign unit ids to arms by hash; the sample-ratio-mismatch check."),
    "analyze": ("mlfleet.ops.experiment.analyze_cli", "analyze_command",
                "Analyse a metric file: SRM, Welch, bootstrap, CUPED, multiple testing."),
    "power": ("mlfleet.ops.experiment.power_cli", "power_command",
              "Users per arm for a minimum detectable effect; experiment capacity."),
    "cuped": ("mlfleet.ops.experiment.cuped_cli", "cuped_command",
              "CUPED on simulated users: variance reduction vs rho^2, the in-experiment pitfall."),
    "peeking": ("mlfleet.ops.experiment.peeking_cli", "peeking_command",
                "The peeking problem (Armitage 1969) and mSPRT under continuous monitoring."),
    "monitor": ("mlfleet.ops.experiment.monitor_cli", "monitor_command",
                "An always-valid (mSPRT) test over a metric file, look by look."),
    "interleaving": ("mlfleet.ops.experiment.interleaving_cli", "interleaving_command",
                     "Team-draft interleaving vs A/B: users for 80% power, and the ratio."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("experiment", cls=LazyGroup, registry=EXPERIMENT_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def experiment_group() -> None:
    """Experimentation statistics: A/B tests, sequential tests, interleaving."""
