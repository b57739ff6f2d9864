"""``mlfleet ops experiment interleaving``: team-draft interleaving against an A/B test on
simulated search users and two rankers of known quality difference.

Prints the users each method needs for 80 % power at α = 0.05 (with a 95 % interval from
the simulation's own uncertainty and the power checked on resampled experiments), the ratio,
and the conditions that produced it (click model, quality gap, list length, queries per
user, click-propensity spread). ``--json`` prints a strict JSON document; a progress bar
goes to stderr on a terminal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mlfleet.ops.experiment.errors import ExperimentInputError
from mlfleet.report.progress import progress_bar


def parse_shapes(text: str) -> tuple[float, float]:
    """``"2,2"`` -> (2.0, 2.0): the Beta shapes of the click propensity."""
    parts = text.split(",")
    try:
        a, b = (float(p) for p in parts)
    except ValueError:
        raise ExperimentInputError(f"--propensity(={text!r}) must be two Beta shapes a,b > 0, "
                                   "e.g. 2,2") from None
    if not (0 < a < 1e6 and 0 < b < 1e6):
        raise ExperimentInputError(f"--propensity(={text!r}) must be two Beta shapes a,b in "
                                   "(0, 1e6), e.g. 2,2")
    return a, b


def run_interleaving(opts: dict[str, Any], progress: Any = None) -> dict[str, Any]:
    """The document ``mlfleet ops experiment interleaving`` prints."""
    from mlfleet.ops.experiment.click_model import SearchModel
    from mlfleet.ops.experiment.interleaving import compare_methods

    shape_a, shape_b = parse_shapes(opts["propensity"])
    model = SearchModel(list_len=opts["list_len"], pool_size=max(30, opts["list_len"]),
                        noise_a_sd=opts["noise"], gap=opts["gap"],
                        mean_queries=opts["mean_queries"],
                        examination_decay=opts["examination_decay"],
                        propensity_a=shape_a, propensity_b=shape_b)
    result = compare_methods(model, pool_users=opts["users"], reps=opts["reps"],
                             alpha=opts["alpha"], power=opts["power"], seed=opts["seed"],
                             progress=progress)
    return dataclasses.asdict(result)


def print_interleaving(doc: dict[str, Any]) -> None:
    """The two sample sizes, the ratio and the conditions."""
    from mlfleet.report.terminal import print_table

    m, q = doc["model"], doc["quality"]
    rows = [[name, f"{s['users']:,}", f"{s['users_low']:,} – {s['users_high']:,}",
             f"{s['simulated_power']:.3f} ± {s['power_se']:.3f} ({s['reps']} runs)", test]
            for name, s, test in (("A/B", doc["ab"], "Welch, clicks per query per user"),
                                  ("team-draft interleaving", doc["interleaving"],
                                   "sign test, per-user preference"))]
    print_table(["method", "users", "95% interval", "power at that size", "test"], rows,
                title=f"users for {doc['power']:.0%} power at alpha = {doc['alpha']} "
                      f"({doc['pool_users']:,} simulated users per method, seed {doc['seed']})")
    click.echo(f"ratio A/B / interleaving: {doc['ratio']:.2f} (95% interval "
               f"{doc['ratio_low']:.2f} – {doc['ratio_high']:.2f})")
    click.echo(f"rankers: A noise {m['noise_a_sd']:g}, B noise {m['noise_a_sd'] + m['gap']:g}; "
               f"expected clicks per query A {q['clicks_a']:.4f}, B {q['clicks_b']:.4f} "
               f"(B {q['clicks_b'] / q['clicks_a'] - 1:+.1%})")
    click.echo(f"users prefer A {doc['prefer_a']:.3f}, B {doc['prefer_b']:.3f}, tie "
               f"{1 - doc['prefer_a'] - doc['prefer_b']:.3f}; A/B clicks per query "
               f"{doc['ab_mean_a']:.4f} (sd {doc['ab_std_a']:.3f}) vs {doc['ab_mean_b']:.4f} "
               f"(sd {doc['ab_std_b']:.3f})")
    click.echo(f"conditions: position-based clicks, examination 1/rank^{m['examination_decay']:g},"
               f" {m['list_len']} results of {m['pool_size']} candidates, "
               f"{m['mean_queries']:g} queries per user (geometric), click propensity "
               f"Beta({m['propensity_a']:g}, {m['propensity_b']:g})")


@click.command("interleaving")
@click.option("--gap", type=click.FloatRange(min=0, min_open=True, max=100), default=0.25,
              show_default=True, help="Ranker B's extra score noise (A's is --noise).")
@click.option("--noise", type=click.FloatRange(min=0, max=100), default=1.0, show_default=True,
              help="Ranker A's score noise (relevance grades are 1 apart).")
@click.option("--list-len", type=click.IntRange(min=2, max=100), default=10, show_default=True)
@click.option("--mean-queries", type=click.FloatRange(min=1, max=1000), default=5.0,
              show_default=True, help="Mean queries per user (geometric).")
@click.option("--propensity", default="2,2", show_default=True,
              help="Beta shapes a,b of a user's click propensity (user heterogeneity).")
@click.option("--examination-decay", type=click.FloatRange(min=0, max=10), default=1.0,
              show_default=True, help="Examination probability 1/rank^decay.")
@click.option("--users", type=click.IntRange(min=100, max=1_000_000), default=50_000,
              show_default=True, help="Simulated users per method.")
@click.option("--reps", type=click.IntRange(min=20, max=100_000), default=400,
              show_default=True, help="Resampled experiments checking each power.")
@click.option("--alpha", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.05, show_default=True)
@click.option("--power", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.8, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def interleaving_command(as_json: bool, **opts: Any) -> None:
    """Team-draft interleaving vs A/B: users for 80% power, and the ratio."""
    with progress_bar(not as_json, "simulating users") as bar:
        doc = run_interleaving(opts, bar)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        print_interleaving(doc)
