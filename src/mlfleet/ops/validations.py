"""Validation provider of the ML-operations chapter (``mlfleet validate``).

The peeking problem: the exact type-I error of k looks at a z-test (the recursion of
Armitage, McPherson and Rowe 1969, :mod:`mlfleet.ops.experiment.peeking`) against their
published table and against seeded simulated null walks. Computed live.
"""

from __future__ import annotations

from functools import partial

from mlfleet.ops.experiment.peeking import ARMITAGE_1969, simulate_peeking
from mlfleet.validate.registry import Check, Context

_check = partial(Check, chapter="ops")
PUBLISHED_BOUND = 0.001
"""The table's three decimals sit within 0.00091 of the exact values (truncated in places)."""
SIMS = 20_000
SIM_BOUND = 0.012
"""About 3.5 standard errors of the largest simulated rate (0.373 over 20,000 walks)."""


def provide(ctx: Context) -> list[Check]:
    study = simulate_peeking(looks=sorted(ARMITAGE_1969), sims=SIMS, seed=ctx.seed)
    model = "ops.experiment.peeking.exact_type_one_error (Gauss-Legendre recursion)"
    out = []
    for row in study.rows:
        quantity = f"type-I error of {row.looks} looks at nominal α = 0.05"
        out.append(_check(id=f"ops.peeking.armitage.k{row.looks}", quantity=quantity,
                          model=model,
                          reference="Armitage, McPherson and Rowe 1969 (JRSS A), Table 2",
                          reference_kind="published", reference_value=ARMITAGE_1969[row.looks],
                          predicted=row.exact, bound=PUBLISHED_BOUND, absolute=True))
        out.append(_check(id=f"ops.peeking.simulated.k{row.looks}", quantity=quantity,
                          model=model,
                          reference=f"{SIMS} seeded null random walks (seed {ctx.seed})",
                          reference_kind="simulation", reference_value=row.fixed_type_one,
                          predicted=row.exact, bound=SIM_BOUND, absolute=True))
    return out
