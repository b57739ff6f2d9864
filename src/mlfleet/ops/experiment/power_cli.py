"""``mlfleet ops experiment power``: users per arm for an MDE, and experiment capacity.

With ``--std`` the MDE is an absolute change of the metric; with ``--cv`` (the metric's
standard deviation over its mean) it is relative to the mean (``0.02`` or ``2%``). Adding
``--users-per-day`` and ``--days`` plans capacity: how many such experiments run at
once in disjoint slices of the traffic, and in ``--layers`` overlapping layers.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from mlfleet.checks import positive
from mlfleet.ops.experiment.errors import ExperimentInputError


def _mde(text: str, *, relative: bool) -> float:
    percent = text.strip().endswith("%")
    try:
        value = float(text.strip().rstrip("%")) / (100 if percent else 1)
    except ValueError:
        raise ExperimentInputError(f"--mde(={text!r}) must be a number (or a percentage with "
                                   "--cv)") from None
    positive("--mde", value, error=ExperimentInputError)
    if percent and not relative:
        raise ExperimentInputError(f"--mde(={text!r}) is a percentage: give --cv (relative "
                                   "MDE) instead of --std (absolute MDE)")
    return value


def _spread(std: float | None, cv: float | None) -> tuple[float, bool]:
    """(the metric's spread, whether the MDE is relative) from exactly one of --std, --cv."""
    if cv is not None and std is None:
        return positive("--cv", cv, error=ExperimentInputError), True
    if std is not None and cv is None:
        return positive("--std", std, error=ExperimentInputError), False
    raise ExperimentInputError("give exactly one of --std (absolute MDE) and --cv "
                               "(relative MDE)")


def _document(*, mde: float, std: float, relative: bool, alpha: float, power: float, arms: int,
              users_per_day: float | None, days: float | None, layers: int) -> dict[str, Any]:
    from mlfleet.ops.experiment.layers import capacity_for
    from mlfleet.ops.experiment.power import users_per_arm

    n = users_per_arm(effect=mde, std=std, alpha=alpha, power=power)
    doc: dict[str, Any] = {"mde": mde, "mde_is_relative": relative,
                           ("cv" if relative else "std"): std, "alpha": alpha, "power": power,
                           "arms": arms, "users_per_arm": n, "users_total": arms * n}
    if (users_per_day is None) != (days is None):
        raise ExperimentInputError("capacity needs both --users-per-day and --days")
    if users_per_day is not None and days is not None:
        doc["capacity"] = asdict(capacity_for(users_per_arm=n, users_per_day=users_per_day,
                                              duration_days=days, arms=arms, layers=layers,
                                              alpha=alpha))
    return doc


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    mde = f"{doc['mde']:.4g} of the mean (CV {doc['cv']:g})" if doc["mde_is_relative"] \
        else f"{doc['mde']:.4g} (std {doc['std']:g})"
    rows = [("MDE", mde), ("alpha / power", f"{doc['alpha']:g} / {doc['power']:g}"),
            ("users per arm", f"{doc['users_per_arm']:,}"),
            (f"users for {doc['arms']} arms", f"{doc['users_total']:,}")]
    if "capacity" in doc:
        c = doc["capacity"]
        rows += [("days at full traffic", f"{c['days_at_full_traffic']:.3g}"),
                 ("share of the period's traffic", f"{100 * c['traffic_share']:.3g}%"),
                 ("at once, disjoint slices", str(c["experiments_disjoint"])),
                 (f"at once, {c['layers']} overlapping layers", str(c["experiments_layered"])),
                 ("overlapping pairs (false interaction alarms at alpha)",
                  f"{c['overlapping_pairs']} ({c['expected_false_interactions']:.3g})")]
    print_table(("quantity", "value"), rows, title="A/B sample size")


@click.command("power")
@click.option("--mde", required=True, help="Minimum detectable effect: absolute with --std, "
                                           "relative with --cv (0.02 or 2%).")
@click.option("--std", type=float, default=None, help="The metric's standard deviation per user.")
@click.option("--cv", type=float, default=None, help="The metric's std / mean per user.")
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--power", "power_", type=float, default=0.8, show_default=True)
@click.option("--arms", type=int, default=2, show_default=True, help="Arms per experiment.")
@click.option("--users-per-day", type=float, default=None, help="New users a day (capacity).")
@click.option("--days", type=float, default=None, help="Experiment duration in days (capacity).")
@click.option("--layers", type=int, default=1, show_default=True,
              help="Overlapping layers, each seeing all the traffic (capacity).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def power_command(mde: str, std: float | None, cv: float | None, alpha: float, power_: float,
                  arms: int, users_per_day: float | None, days: float | None, layers: int,
                  as_json: bool) -> None:
    """Users per arm to detect an MDE; how many experiments fit in the traffic."""
    from mlfleet.checks import positive_int

    positive_int("--arms", arms, minimum=2, error=ExperimentInputError)
    positive_int("--layers", layers, error=ExperimentInputError)
    spread, relative = _spread(std, cv)
    doc = _document(mde=_mde(mde, relative=relative), std=spread, relative=relative,
                    alpha=alpha, power=power_, arms=arms, users_per_day=users_per_day,
                    days=days, layers=layers)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print(doc)
