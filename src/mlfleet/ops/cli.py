"""``mlfleet ops``: the ML-operations chapter's commands, each imported only when invoked."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

OPS_COMMANDS: dict[str, tuple[str, str, str]] = {
    "registry": ("mlfleet.ops.registry.cli", "registry_group",
                 "Model registry on MLflow: ensembles, atomic promotion, rollback, audit."),
    "experiment": ("mlfleet.ops.experiment.cli", "experiment_group",
                   "A/B statistics: split, SRM, Welch, CUPED, mSPRT, peeking, interleaving."),
    "canary": ("mlfleet.ops.canary.cli", "canary_group",
               "Automated canary analysis (Kayenta's judge) in the simulator and for real."),
    "diff": ("mlfleet.ops.declare.cli", "diff_command",
             "Drift: a scenario's declared deployment vs what a running server reports."),
    "promote": ("mlfleet.ops.declare.cli", "promote_command",
                "Environment promotion (dev -> staging -> prod) behind validation gates."),
    "record": ("mlfleet.ops.declare.cli", "record_command",
               "A reproducibility record: data, code, environment, model, configuration."),
    "cost": ("mlfleet.ops.cost.cli", "cost_group",
             "Cost attribution (OpenCost model): chargeback by team and model, budgets."),
    "debug": ("mlfleet.ops.debug.cli", "debug_group",
              "Debugging at scale: timelines, stragglers, gradient anomalies, drift."),
    "platform": ("mlfleet.ops.org.cli", "platform_group",
                 "Platform and organisation: portfolio growth, on-call load, platform payback."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("ops", cls=LazyGroup, registry=OPS_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def ops_group() -> None:
    """ML operations at scale: registry, experiments, canary, drift, cost, debugging."""
