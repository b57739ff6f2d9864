"""``mlfleet ops canary``: the canary judge, and canaries it decides in the simulator and for real."""

from __future__ import annotations

import click

from mlfleet.lazy_group import LazyGroup

CANARY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "judge": ("mlfleet.ops.canary.judge_cli", "judge_command",
              "Judge a canary's metric series against the baseline's (Kayenta's judge)."),
    "sim": ("mlfleet.ops.canary.sim_cli", "sim_command",
            "A judged canary rollout in the serving simulator."),
    "real": ("mlfleet.ops.canary.real_cli", "real_command",
             "A judged canary on two real mlfleet serve processes under real HTTP load."),
}
"""Command name -> (module, attribute, one-line help)."""


@click.group("canary", cls=LazyGroup, registry=CANARY_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
def canary_group() -> None:
    """Automated canary analysis: Kayenta's judge, its blind spots, judged rollouts."""
