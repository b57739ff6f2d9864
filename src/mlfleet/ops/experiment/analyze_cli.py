"""``mlfleet ops experiment analyze``: the table of an experiment's metric file.

METRICS is a CSV (or Parquet) file with columns ``unit_id, arm, value`` and optionally
``pre_value`` (for ``--cuped``), ``arm_b`` (a second, overlapping experiment: the
interaction test) and ``experiment`` (pick one with ``--experiment``); see
:mod:`mlfleet.ops.experiment.metric_file`. Prints per arm n and mean, the SRM check, and
per treatment the difference, its interval, p (raw and corrected) and the relative lift.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from mlfleet.ops.experiment.analyze import Analysis

MAX_BOOTSTRAP = 100_000
"""Most bootstrap resamples per comparison."""


def _comparison(c: Any) -> dict[str, Any]:
    w = c.welch
    doc: dict[str, Any] = {"arm": c.arm, "diff": w.diff, "se": w.se, "df": w.df, "t": w.t,
                           "ci_low": w.ci_low, "ci_high": w.ci_high, "p_value": w.p_value,
                           "p_adjusted": c.p_adjusted, "significant": c.significant,
                           "lift": None if c.lift is None else asdict(c.lift),
                           "bootstrap": None if c.bootstrap is None else asdict(c.bootstrap)}
    return doc


def _document(result: Analysis) -> dict[str, Any]:
    o = result.options
    srm = result.srm
    return {
        "path": result.path, "control": result.control, "alpha": o.alpha,
        "correction": o.correction, "bootstrap_resamples": o.bootstrap, "seed": o.seed,
        "arms": [{"arm": a, "n": s.n, "mean": s.mean, "std": s.var ** 0.5}
                 for a, s in zip(result.arms, result.summaries, strict=True)],
        "srm": {"observed": list(srm.observed), "expected": list(srm.expected),
                "chi2": srm.chi2, "dof": srm.dof, "p_value": srm.p_value,
                "threshold": srm.threshold, "mismatch": srm.mismatch},
        "comparisons": [_comparison(c) for c in result.comparisons],
        "cuped": None if result.cuped is None else asdict(result.cuped),
        "interaction": None if result.interaction is None else asdict(result.interaction)}


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    print_table(("arm", "n", "mean", "std"),
                [(a["arm"], a["n"], f"{a['mean']:.6g}", f"{a['std']:.4g}") for a in doc["arms"]],
                title=f"{doc['path']}{' (CUPED-adjusted)' if doc['cuped'] else ''}")
    level = f"{1 - doc['alpha']:.0%}"
    print_table(("arm", "diff vs " + doc["control"], f"{level} CI", "p", f"p ({doc['correction']})",
                 "lift", f"lift {level} CI", "bootstrap CI"),
                [_row(c) for c in doc["comparisons"]])
    s = doc["srm"]
    click.echo(f"SRM: p = {s['p_value']:.4g} (flag below {s['threshold']}): "
               f"{'MISMATCH: do not trust these results' if s['mismatch'] else 'no mismatch'}")
    if doc["cuped"]:
        c = doc["cuped"]
        click.echo(f"CUPED: theta = {c['theta']:.4g}, rho = {c['rho']:.3f}, variance reduced by "
                   f"{c['variance_reduction']:.1%}")
    if doc["interaction"]:
        i = doc["interaction"]
        click.echo(f"interaction with arm_b: A's effect {i['effect_a_by_b'][0]:.4g} | "
                   f"{i['effect_a_by_b'][1]:.4g} by B's arm, contrast {i['contrast']:.4g} "
                   f"(se {i['se']:.3g}), p = {i['p_value']:.4g}")


def _row(c: dict[str, Any]) -> tuple[str, ...]:
    lift, boot = c["lift"], c["bootstrap"]
    return (c["arm"], f"{c['diff']:+.4g}", f"[{c['ci_low']:.4g}, {c['ci_high']:.4g}]",
            f"{c['p_value']:.4g}", f"{c['p_adjusted']:.4g}" + (" *" if c["significant"] else ""),
            "-" if lift is None else f"{lift['lift']:+.2%}",
            "-" if lift is None else f"[{lift['ci_low']:+.2%}, {lift['ci_high']:+.2%}]",
            "-" if boot is None else f"[{boot['ci_low']:.4g}, {boot['ci_high']:.4g}]")


@click.command("analyze")
@click.argument("metrics", type=click.Path(path_type=Path))
@click.option("--control", default=None, help="Control arm [the arm named control, else the "
                                              "file's first arm].")
@click.option("--weights", default=None, help="Intended split ARM=PERCENT,... for the SRM "
                                              "check [equal].")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--correction", default="holm", show_default=True,
              help="Across treatment arms: none, bonferroni, holm, bh.")
@click.option("--cuped", is_flag=True, help="Adjust by the pre_value column (CUPED).")
@click.option("--bootstrap", type=int, default=0, show_default=True,
              help="Bootstrap resamples per comparison (0: none).")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--experiment", default=None, help="Rows of this experiment (a file with an "
                                                 "experiment column).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def analyze_command(metrics: Path, control: str | None, weights: str | None, alpha: float,
                    correction: str, cuped: bool, bootstrap: int, seed: int,
                    experiment: str | None, as_json: bool) -> None:
    """Analyse METRICS: SRM, Welch's test, lift, bootstrap, CUPED, multiple testing."""
    from mlfleet.checks import one_of
    from mlfleet.ops.experiment.analyze import AnalysisOptions, analyze
    from mlfleet.ops.experiment.errors import ExperimentInputError
    from mlfleet.ops.experiment.metric_file import read_metric_file
    from mlfleet.ops.experiment.multiple_testing import CORRECTIONS
    from mlfleet.ops.experiment.split import parse_weights
    from mlfleet.report.progress import progress_bar

    one_of("--correction", correction, CORRECTIONS, error=ExperimentInputError)
    if bootstrap and not 10 <= bootstrap <= MAX_BOOTSTRAP:
        raise ExperimentInputError(f"--bootstrap(={bootstrap}) must be 0 or between 10 and "
                                   f"{MAX_BOOTSTRAP}")
    options = AnalysisOptions(control=control, weights=None if weights is None else parse_weights(weights),
                              alpha=alpha, correction=correction, cuped=cuped,
                              bootstrap=bootstrap, seed=seed)
    data = read_metric_file(metrics, experiment=experiment)
    with progress_bar(bool(bootstrap) and not as_json, "bootstrap") as bar:
        doc = _document(analyze(data, options, progress=bar))
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print(doc)
