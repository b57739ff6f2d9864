"""``mlfleet ops experiment monitor METRICS``: replay a metric file in arrival order and run
the always-valid mSPRT (:mod:`mlfleet.ops.experiment.msprt`) at every look.

Arrival order is the ``time`` column where the file has one (ties keep file order), else
file order. A look falls after every ``--every`` units and at the last. Each look prints the
difference (treatment − control), the always-valid p-value and (1 − α) interval; the first
look with p ≤ α is the stopping point, and stopping there keeps the type-I error ≤ α however
many looks were taken (up to the plug-in variance's approximation). The mixing sd τ is
``--tau`` (metric units) or, by default, the effect a fixed-horizon test of the file's size
detects with 80 % power, with the standard deviation estimated at the first ready look.
Bad input (a missing column, an arm with zero users, a non-numeric value) exits 2 with one
line.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from mlfleet.ops.experiment.errors import ExperimentInputError

if TYPE_CHECKING:
    from mlfleet.ops.experiment.metric_file import MetricData
    from mlfleet.ops.experiment.msprt import Looks

MAX_LOOKS = 10_000
"""Looks above which a replay is refused (pick a larger ``--every``)."""
DEFAULT_LOOKS = 100
"""Looks taken when ``--every`` is not given."""
SHOWN_LOOKS = 25
"""Looks printed in the table (evenly spaced, plus the stopping look); --json has all."""


def pick_arms(data: MetricData, control: str | None, treatment: str | None) -> tuple[str, str]:
    """(control, treatment): the named arms; by default the arm called ``control`` (else the
    first in file order) and the other one."""
    from mlfleet.ops.experiment.metric_file import require_arms

    if (control is None or treatment is None) and len(data.arms) > 2:
        raise ExperimentInputError(f"{data.path} has {len(data.arms)} arms "
                                   f"({', '.join(data.arms)}); name --control and --treatment")
    if control is None:
        control = "control" if "control" in data.arms and treatment != "control" else \
            next(a for a in data.arms if a != treatment)
    treatment = treatment if treatment is not None else next(a for a in data.arms
                                                             if a != control)
    if control == treatment:
        raise ExperimentInputError(f"--control and --treatment(={treatment!r}) must differ")
    require_arms(data, (control, treatment))
    return control, treatment


def look_rows(units: int, every: int | None) -> np.ndarray:
    """0-based rows after which a look falls: every ``every`` units and the last."""
    step = every if every is not None else max(1, math.ceil(units / DEFAULT_LOOKS))
    if math.ceil(units / step) > MAX_LOOKS:
        raise ExperimentInputError(f"--every(={step}) gives {math.ceil(units / step)} looks over "
                                   f"{units} units; allowed: at most {MAX_LOOKS} looks")
    return np.unique(np.append(np.arange(step - 1, units, step), units - 1))


def default_tau(values: np.ndarray, treated: np.ndarray, looks: np.ndarray) -> float:
    """The 80 %-power effect of a fixed test with the file's arm sizes, σ from the first look
    at which both arms have two units with some spread."""
    from mlfleet.ops.experiment.power import minimum_detectable_effect

    for end in looks:
        c, t = values[: end + 1][~treated[: end + 1]], values[: end + 1][treated[: end + 1]]
        if c.size >= 2 and t.size >= 2 and (np.var(c) > 0 or np.var(t) > 0):
            std = math.sqrt((np.var(c, ddof=1) + np.var(t, ddof=1)) / 2)
            per_arm = int(min(np.sum(treated), np.sum(~treated)))
            return minimum_detectable_effect(users_per_arm=per_arm, std=std)
    raise ExperimentInputError("the metric file's values do not vary within either arm; "
                               "the mSPRT needs a variance (or pass --tau)")


def _series(data: MetricData, control: str, treatment: str) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isin(data.arm_index, [data.arms.index(control), data.arms.index(treatment)])
    order = np.argsort(data.time[keep], kind="stable") if data.time is not None \
        else np.arange(int(keep.sum()))
    return data.value[keep][order], (data.arm_index[keep] == data.arms.index(treatment))[order]


def run_monitor(path: str, *, alpha: float, tau: float | None, every: int | None,
                control: str | None, treatment: str | None,
                experiment: str | None) -> dict[str, Any]:
    """The document ``mlfleet ops experiment monitor`` prints."""
    from mlfleet.ops.experiment.metric_file import read_metric_file
    from mlfleet.ops.experiment.msprt import replay

    data = read_metric_file(path, experiment=experiment)
    control, treatment = pick_arms(data, control, treatment)
    values, treated = _series(data, control, treatment)
    looks = look_rows(values.size, every)
    tau_used = tau if tau is not None else default_tau(values, treated, looks)
    result = replay(values, treated, look_at=looks, tau=tau_used, alpha=alpha)
    return _document(result, path=path, control=control, treatment=treatment, alpha=alpha,
                     tau=tau_used, tau_given=tau is not None,
                     order="time" if data.time is not None else "file")


def _document(looks: Looks, **meta: Any) -> dict[str, Any]:
    rows = [{"units": int(looks.units[i]), "control_n": int(looks.control_n[i]),
             "treatment_n": int(looks.treatment_n[i]), "difference": float(looks.difference[i]),
             "p_value": float(looks.p_value[i]), "ci_low": float(looks.ci_low[i]),
             "ci_high": float(looks.ci_high[i])} for i in range(looks.units.size)]
    hits = np.flatnonzero(looks.p_value <= meta["alpha"])
    stop = rows[int(hits[0])] | {"look": int(hits[0]) + 1} if hits.size else None
    return {**meta, "looks": rows, "stop": stop, "final": rows[-1]}


def print_monitor(doc: dict[str, Any]) -> None:
    """A table of (up to :data:`SHOWN_LOOKS`) looks and the verdict."""
    from mlfleet.report.terminal import print_table

    looks = doc["looks"]
    shown = sorted(set(np.linspace(0, len(looks) - 1, min(SHOWN_LOOKS, len(looks)))
                       .round().astype(int).tolist())
                   | ({doc["stop"]["look"] - 1} if doc["stop"] else set()))
    rows = [[i + 1, r["units"], f"{r['control_n']}/{r['treatment_n']}", f"{r['difference']:.4g}",
             f"{r['p_value']:.4g}", f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"]
            for i in shown for r in (looks[i],)]
    print_table(["look", "units", "control/treatment", "difference", "always-valid p",
                 f"{1 - doc['alpha']:.0%} always-valid CI"], rows,
                title=f"mSPRT on {doc['path']}: {doc['treatment']} - {doc['control']} "
                      f"({doc['order']} order, tau = {doc['tau']:.4g}"
                      f"{'' if doc['tau_given'] else ' (default)'})")
    stop = doc["stop"]
    if stop is None:
        click.echo(f"no stop: p = {doc['final']['p_value']:.4g} > {doc['alpha']} after all "
                   f"{doc['final']['units']} units; keep collecting or accept no detectable "
                   "difference")
    else:
        click.echo(f"stop at look {stop['look']} ({stop['units']} units): difference "
                   f"{stop['difference']:.4g}, p = {stop['p_value']:.4g} <= {doc['alpha']}")


@click.command("monitor")
@click.argument("metrics", type=click.Path(dir_okay=False))
@click.option("--alpha", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.05, show_default=True)
@click.option("--tau", type=click.FloatRange(min=0, min_open=True, max=1e300),
              help="mSPRT mixing sd in metric units [the 80%-power effect of the file's size].")
@click.option("--every", type=click.IntRange(min=1),
              help=f"Units between looks [about {DEFAULT_LOOKS} looks].")
@click.option("--control", help="The control arm [the arm named control, else the first].")
@click.option("--treatment", help="The treatment arm [the other one].")
@click.option("--experiment", help="The experiment, in a file that holds several.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every look).")
def monitor_command(metrics: str, alpha: float, tau: float | None, every: int | None,
                    control: str | None, treatment: str | None, experiment: str | None,
                    as_json: bool) -> None:
    """An always-valid (mSPRT) test over a metric file, look by look."""
    doc = run_monitor(metrics, alpha=alpha, tau=tau, every=every, control=control,
                      treatment=treatment, experiment=experiment)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc, null_reasons={"ci_low": "no test before both arms have a variance",
                                     "ci_high": "no test before both arms have a variance"})
    else:
        print_monitor(doc)
