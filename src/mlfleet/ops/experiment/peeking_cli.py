"""``mlfleet ops experiment peeking``: the peeking problem (Armitage et al. 1969) reproduced,
and the mSPRT on the same simulated walks.

For each look count k: the type-I error of a fixed-horizon z-test looked at k times
(simulated, with its standard error), the exact value (numerical integration), the
published one, and the mSPRT's at the same looks. Below the table, the mSPRT under the
alternative the fixed test was sized for: its power and mean stopping time against N.
``--json`` prints a strict JSON document; a progress bar goes to stderr on a terminal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mlfleet.errors import InputError
from mlfleet.report.progress import progress_bar

MAX_CELLS = 1_000_000_000
"""Walk steps (sims × lcm of the looks) above which a study is refused (~30 s on one core)."""
DEFAULT_LOOKS = "1,2,3,4,5,10,20,50,100"


def parse_looks(text: str) -> list[int]:
    """``"1,2,5"`` -> [1, 2, 5]; anything but positive integers is an InputError."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InputError(f"--looks(={text!r}) must be a comma-separated list of integers >= 1")
    return [int(p) for p in parts]


def run_peeking(*, looks_text: str, sims: int, seed: int, alpha: float, tau_se: float | None,
                power_sims: int, progress: Any = None) -> dict[str, Any]:
    """The document ``mlfleet ops experiment peeking`` prints."""
    from mlfleet.ops.experiment.peeking import grid_for, simulate_peeking
    from mlfleet.ops.experiment.sequential import msprt_under_alternative

    looks = parse_looks(looks_text)
    cells = sims * grid_for(looks)
    if cells > MAX_CELLS:
        raise InputError(f"--sims(={sims}) x {grid_for(looks)} steps per walk is {cells:.3g} "
                         f"steps; allowed: at most {MAX_CELLS:.0e}")
    study = simulate_peeking(looks=looks, sims=sims, seed=seed, alpha=alpha, tau_se=tau_se,
                             progress=progress)
    alternatives = [msprt_under_alternative(effect_in_mde=e, sims=power_sims, seed=seed,
                                            alpha=alpha, tau_se=tau_se) for e in (1.0, 2.0)]
    doc = dataclasses.asdict(study)
    doc["alternatives"] = [dataclasses.asdict(a) for a in alternatives]
    return doc


def print_peeking(doc: dict[str, Any]) -> None:
    """The table and the power lines."""
    from mlfleet.report.terminal import print_table

    rows = [[r["looks"], f"{r['fixed_type_one']:.4f} ± {r['fixed_se']:.4f}", f"{r['exact']:.4f}",
             "—" if r["armitage"] is None else f"{r['armitage']:.3f}",
             f"{r['msprt_type_one']:.4f} ± {r['msprt_se']:.4f}"] for r in doc["rows"]]
    print_table(["looks k", "z-test, simulated ± SE", "exact", "Armitage 1969",
                 "mSPRT ± SE"], rows,
                title=f"type-I error at nominal alpha = {doc['alpha']} ({doc['sims']:,} null "
                      f"walks of {doc['grid_steps']} steps, seed {doc['seed']})")
    click.echo(f"mSPRT checked after every one of the {doc['grid_steps']} steps: "
               f"{doc['msprt_continuous']:.4f} ± {doc['msprt_continuous_se']:.4f} "
               f"(tau = {doc['tau_se']:.2f} standard errors at the horizon)")
    for a in doc["alternatives"]:
        click.echo(f"effect {a['effect_in_mde']:g} x the 80%-power effect of N = "
                   f"{a['horizon_n']}: z-test power at N {a['fixed_power']:.3f}; mSPRT power "
                   f"by N {a['msprt_power_at_horizon']:.3f}, by {a['max_factor']:g}N "
                   f"{a['msprt_power_at_max']:.3f}, mean stop {a['mean_stop_in_horizons']:.2f}N "
                   f"(median of stopped {a['median_stop_in_horizons']:.2f}N)")


@click.command("peeking")
@click.option("--looks", "looks_text", default=DEFAULT_LOOKS, show_default=True,
              help="Look counts k (comma-separated); the walk has lcm(k) steps.")
@click.option("--sims", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Null walks (the SE of a rate p is sqrt(p(1-p)/sims)).")
@click.option("--power-sims", type=click.IntRange(min=1, max=100_000), default=5000,
              show_default=True, help="Walks for the power and stopping-time lines.")
@click.option("--alpha", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.05, show_default=True)
@click.option("--tau-se", type=click.FloatRange(min=0, min_open=True, max=1e6),
              help="mSPRT mixing sd in standard errors of the estimate at the horizon "
                   "[z(1-alpha/2) + z(0.8): the 80%-power effect].")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def peeking_command(looks_text: str, sims: int, power_sims: int, alpha: float,
                    tau_se: float | None, seed: int, as_json: bool) -> None:
    """Type-I error of k peeks at a fixed-horizon test (Armitage 1969) vs the mSPRT."""
    with progress_bar(not as_json, "simulating") as bar:
        doc = run_peeking(looks_text=looks_text, sims=sims, seed=seed, alpha=alpha,
                          tau_se=tau_se, power_sims=power_sims, progress=bar)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        print_peeking(doc)
