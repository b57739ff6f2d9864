"""``mlfleet sim``: every chapter's simulations under one group.

A chapter registers a simulation by adding a row to :data:`SIM_COMMANDS`; the command
is imported only when invoked.
"""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

SIM_COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("mlfleet.serving.sim.cli", "serve_command",
              "Requests through a fleet of replicas: batching, load balancing, SLOs."),
    "mmc": ("mlfleet.serving.sim.cli", "mmc_command",
            "M/M/c through the serving engine next to Erlang C, with 95 % CIs."),
    "goodput": ("mlfleet.reliability.sim.cli", "goodput_command",
                "A weeks-long training job with failures and checkpoints: goodput."),
    "stragglers": ("mlfleet.reliability.sim.stragglers_cli", "stragglers_command",
                   "Synchronous steps with slow ranks: detection, backup workers, staleness."),
    "cache": ("mlfleet.storage.cache.cli", "cache_command",
              "Replay an access trace through caches and tiers: hit rate, bandwidth, cost."),
    "cluster": ("mlfleet.infra.scheduling.cli", "cluster_command",
                "GPU cluster scheduling: Tiresias, Optimus, Gandiva, Themis, Slurm, Kubernetes."),
    "degrade": ("mlfleet.reliability.degradation.cli", "degrade_group",
                "Graceful degradation: feature fallback, lost KV state, ensembles, regions."),
    "autoscale": ("mlfleet.infra.autoscale.cli", "autoscale_command",
                  "Kubernetes HPA/VPA on the serving simulator under a diurnal load."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("sim", cls=LazyGroup, registry=SIM_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def sim_group() -> None:
    """Discrete-event simulations (all on the kernel in mlfleet.sim)."""
