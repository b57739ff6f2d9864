"""The leave-one-out table of docs/accelerators.md, per accelerator and engine mode.

``python -m mlfleet.infra.accel.loo_table`` prints it; ``tests/infra/accel/test_loo.py``
checks that the docs hold exactly this text.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from mlfleet.infra.accel.loo import LooResult, leave_one_out
from mlfleet.infra.accel.published import load_points
from mlfleet.infra.accel.validations import goal, loo_check
from mlfleet.units import format_duration


def _group(result: LooResult) -> str:
    p = result.point
    return f"{p.accelerator}, {p.engine} engine" if p.engine else f"{p.accelerator}, kernels"


def summary(results: Sequence[LooResult]) -> str:
    """``**N of M points are asserted** ...``: the count the tests compare with the docs."""
    checks = [loo_check(r) for r in results]
    asserted = sum(c.held == "asserted" for c in checks)
    met = sum(c.passed for c in checks)
    return (f"**{asserted} of {len(checks)} points are asserted** (within their goal); "
            f"{met} of {len(checks)} meet their goal.")


def markdown(results: Sequence[LooResult]) -> str:
    """One table per accelerator and engine mode: every point's error and how it is held."""
    lines = [summary(results), ""]
    for name, group in groupby(sorted(results, key=_group), key=_group):
        lines += [f"#### {name}", "",
                  "| point | precision | measured | predicted | error | goal | held |",
                  "|---|---|---|---|---|---|---|"]
        for r in group:
            c = loo_check(r)
            lines.append(f"| `{r.point.id}` | {r.point.precision} | "
                         f"{format_duration(r.point.measured_s)} | "
                         f"{format_duration(r.predicted_s)} | {r.rel_error:+.1%} | "
                         f"±{goal(r):.0%} | {c.held} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(markdown(leave_one_out(load_points())), end="")
