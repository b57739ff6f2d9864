"""ML-operations tables: A/B sample size by effect, and the cost of peeking at a running test.

Numbers come from :mod:`mlfleet.ops.experiment.power` and :mod:`mlfleet.ops.experiment.peeking`
(``mlfleet ops experiment power|peeking``); the peeking simulation is seeded.
"""

from __future__ import annotations

from mlfleet.book.table import BookTable, Cell, Column

RELATIVE_MDES = (0.005, 0.01, 0.02, 0.05)
"""Minimum detectable effects, as a fraction of the metric's mean."""
COEFFICIENT_OF_VARIATION = 1.0
"""Per-user standard deviation / mean of the metric (our assumption; revenue-like metrics
are often larger)."""
POWERS = (0.8, 0.9)
ALPHA = 0.05
PEEK_LOOKS = (1, 2, 3, 5, 10)
PEEK_SIMS = 20_000
PEEK_SEED = 0

_KOHAVI = ("Kohavi, Tang & Xu, Trustworthy Online Controlled Experiments, 2020, ch. 17")


def experiment_sample_size() -> BookTable:
    """Users per arm to detect each relative effect at each power (two-sided z-test)."""
    from mlfleet.ops.experiment.power import achieved_power, users_per_arm

    body: list[tuple[Cell, ...]] = []
    for mde in RELATIVE_MDES:
        needed = [users_per_arm(effect=mde, std=COEFFICIENT_OF_VARIATION, alpha=ALPHA, power=p)
                  for p in POWERS]
        check = achieved_power(users_per_arm=needed[0], effect=mde,
                               std=COEFFICIENT_OF_VARIATION, alpha=ALPHA)
        body.append((f"{mde:.1%}", *needed, check))
    return BookTable(
        id="ops.experiment-sample-size",
        title=f"A/B test users per arm by minimum detectable effect (alpha {ALPHA:g}, "
              f"metric with coefficient of variation {COEFFICIENT_OF_VARIATION:g})",
        columns=(Column(name="relative MDE"),
                 *(Column(name=f"users per arm at power {p:g}", fidelity="model")
                   for p in POWERS),
                 Column(name=f"power reached by the {POWERS[0]:g} column's users", unit="fraction",
                        fidelity="model")),
        rows=tuple(body), inputs=(),
        notes=(f"Model: n per arm = (z(1-alpha/2) + z(power))^2 x 2 sigma^2 / delta^2 ({_KOHAVI}; "
               "mlfleet.ops.experiment.power), rounded up.",
               f"Assumption: per-user coefficient of variation {COEFFICIENT_OF_VARIATION:g}."))


def peeking() -> BookTable:
    """Type-I error of a z-test looked at k times: simulated, exact and Armitage's table."""
    from mlfleet.ops.experiment.peeking import simulate_peeking

    study = simulate_peeking(looks=list(PEEK_LOOKS), sims=PEEK_SIMS, seed=PEEK_SEED, alpha=ALPHA)
    body = [(r.looks, r.fixed_type_one, r.fixed_se, r.exact, r.armitage, r.msprt_type_one)
            for r in study.rows]
    return BookTable(
        id="ops.peeking",
        title=f"The cost of peeking: false-positive rate of a test at nominal alpha {ALPHA:g} "
              f"looked at k times ({PEEK_SIMS:,} null walks, seed {PEEK_SEED})",
        columns=(Column(name="looks k"),
                 Column(name="z-test, stop at first significant look", unit="fraction",
                        fidelity="simulation"),
                 Column(name="its standard error", unit="fraction", fidelity="simulation"),
                 Column(name="exact", unit="fraction", fidelity="model"),
                 Column(name="Armitage et al. 1969", unit="fraction", fidelity="published"),
                 Column(name="mSPRT at the same looks", unit="fraction",
                        fidelity="simulation")),
        rows=tuple(body), inputs=(),
        notes=("Published: Armitage, McPherson & Rowe, Repeated significance tests on "
               "accumulating data, J. R. Stat. Soc. A 132(2), 1969, Table 2.",
               "Model: exact = the running sum's density integrated look by look; simulation: "
               "seeded Gaussian random walks, the mSPRT (Johari et al., Always valid inference, "
               "2017) on the same walks (mlfleet.ops.experiment.peeking)."))
