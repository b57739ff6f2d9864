"""The leave-one-out table of docs/accelerators.md, per accelerator and engine mode, and the
table of every published step predicted by the sourced defaults alone.

``python -m mlfleet.infra.accel.loo_table`` prints the first, ``... loo_table defaults`` the
second; ``tests/infra/accel/test_loo.py`` and ``test_published_points.py`` check that the docs
hold exactly this text.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from itertools import groupby

from mlfleet.infra.accel.loo import STEP_KINDS, LooResult, leave_one_out, prior_model, step_time
from mlfleet.infra.accel.published import PublishedPoint, load_points
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


def _shape(p: PublishedPoint) -> str:
    s = p.shape
    tokens = f"context {s['context']}" if p.kind == "decode_step" else f"prompt {s['prompt_len']}"
    return f"{s['workload']}, batch {s['batch']}, {tokens}, tp {s['tp']}"


def defaults_markdown(points: Sequence[PublishedPoint]) -> str:
    """Every published step predicted by the sourced defaults alone (nothing refitted)."""
    lines = ["| point | accelerator | engine | phase | shape | measured | defaults | error |",
             "|---|---|---|---|---|---:|---:|---:|"]
    for p in (q for q in points if q.kind in STEP_KINDS):
        predicted = step_time(prior_model(p), p)
        lines.append(f"| `{p.id}` | {p.accelerator} {p.precision} | {p.engine} | "
                     f"{p.kind.removesuffix('_step')} | {_shape(p)} | "
                     f"{format_duration(p.measured_s)} | {format_duration(predicted)} | "
                     f"{predicted / p.measured_s - 1.0:+.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["defaults"]:
        print(defaults_markdown(load_points()), end="")
    else:
        print(markdown(leave_one_out(load_points())), end="")
