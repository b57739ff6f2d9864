"""How many experiments fit at once: disjoint traffic slices vs overlapping layers.

One experiment with ``arms`` arms needs ``arms × n`` users, n from
:func:`~mlfleet.ops.experiment.power.users_per_arm` with a relative MDE and the metric's
coefficient of variation (n = 2(z_{1−α/2} + z_{1−β})² CV² / MDE², scale-free). Over the
experiment's duration the site sees U = users_per_day × duration_days users (each a new
unit: returning users make U smaller, so give unique users if you know them).

- Disjoint slices: every experiment owns its users, so floor(U / (arms·n)) run at once.
- Overlapping layers (Tang, Agarwal, O'Brien and Meyer, "Overlapping Experiment
  Infrastructure: More, Better, Faster Experimentation", KDD 2010): each layer sees all
  the traffic, experiments within a layer are disjoint, and a unit is in one experiment
  per layer; L layers hold L × floor(U / (arms·n)). What limits L is not traffic but the
  risk of interactions between layers, so the plan also counts the pairs of overlapping
  experiments and the false interaction alarms expected if each pair is tested at α.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.ops.experiment.power import users_per_arm


@dataclass(frozen=True, kw_only=True)
class ExperimentCapacity:
    """The traffic plan for experiments of one size."""

    users_per_arm: int
    """Users each arm needs for the MDE at the power."""
    users_per_experiment: int
    """arms × users_per_arm."""
    users_in_duration: float
    """users_per_day × duration_days: the traffic one duration supplies."""
    days_at_full_traffic: float
    """Days one experiment needs with all the traffic."""
    traffic_share: float
    """Share of the duration's traffic one experiment needs (> 1: it does not fit)."""
    experiments_disjoint: int
    """Experiments that run at once in disjoint slices of the traffic."""
    layers: int
    """Overlapping layers (each sees all the traffic)."""
    experiments_layered: int
    """layers × experiments per layer."""
    overlapping_pairs: int
    """Pairs of experiments in different layers that share users (each a possible interaction)."""
    expected_false_interactions: float
    """overlapping_pairs × alpha: false alarms if every pair is tested for an interaction."""


def experiment_capacity(*, users_per_day: float, duration_days: float, relative_mde: float,
                        metric_cv: float, arms: int = 2, layers: int = 1, alpha: float = 0.05,
                        power: float = 0.8) -> ExperimentCapacity:
    """The capacity plan; raises :class:`ExperimentInputError` for a value out of range."""
    fraction("relative_mde", relative_mde, open_low=True, error=ExperimentInputError)
    positive("metric_cv", metric_cv, error=ExperimentInputError)
    n = users_per_arm(effect=relative_mde, std=metric_cv, alpha=alpha, power=power)
    return capacity_for(users_per_arm=n, users_per_day=users_per_day,
                        duration_days=duration_days, arms=arms, layers=layers, alpha=alpha)


def capacity_for(*, users_per_arm: int, users_per_day: float, duration_days: float,
                 arms: int = 2, layers: int = 1, alpha: float = 0.05) -> ExperimentCapacity:
    """The capacity plan for experiments that need ``users_per_arm`` users in each arm."""
    positive_int("users_per_arm", users_per_arm, error=ExperimentInputError)
    positive("users_per_day", users_per_day, error=ExperimentInputError)
    positive("duration_days", duration_days, error=ExperimentInputError)
    positive_int("arms", arms, minimum=2, error=ExperimentInputError)
    positive_int("layers", layers, error=ExperimentInputError)
    need = arms * users_per_arm
    supply = users_per_day * duration_days
    per_layer = math.floor(supply / need)
    pairs = _cross_layer_pairs(per_layer, layers)
    return ExperimentCapacity(users_per_arm=users_per_arm, users_per_experiment=need,
                              users_in_duration=supply, days_at_full_traffic=need / users_per_day,
                              traffic_share=need / supply, experiments_disjoint=per_layer,
                              layers=layers, experiments_layered=layers * per_layer,
                              overlapping_pairs=pairs, expected_false_interactions=pairs * alpha)


def _cross_layer_pairs(per_layer: int, layers: int) -> int:
    """Pairs of experiments in different layers: C(L, 2) · per_layer² (all of them share
    users, since each layer's slices cover all the traffic)."""
    return layers * (layers - 1) // 2 * per_layer ** 2
