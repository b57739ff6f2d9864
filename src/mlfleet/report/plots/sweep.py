"""A sweep's charts: each metric against the first swept field, one line per combination
of the other fields (at most :data:`MAX_LINES`; the chart's note says how many were left out).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from mlfleet.report.plots.chart import Axis, Chart, Series
from mlfleet.report.plots.sweep_file import SweepTable

MAX_LINES = 8
"""Lines per chart; further combinations are left out and counted in the note."""
LOG_RATIO = 20.0
"""An axis whose positive values span at least this ratio is drawn on a log scale."""


def charts(sweep: SweepTable) -> list[Chart]:
    """One chart per numeric metric (a metric of text values has none)."""
    return [_chart(sweep, m) for m in sweep.metrics if _numeric(sweep.columns[m])]


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values
               if v is not None)


def _chart(sweep: SweepTable, metric: str) -> Chart:
    x_field, others = sweep.fields[0], sweep.fields[1:]
    xs, x_note = _x_values(sweep.columns[x_field])
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in range(sweep.rows):
        groups.setdefault(tuple(sweep.columns[f][row] for f in others), []).append(row)
    ys = [_float(v) for v in sweep.columns[metric]]
    series = []
    for key, rows in list(groups.items())[:MAX_LINES]:
        rows = sorted(rows, key=lambda r: xs[r])
        name = ", ".join(f"{f.rsplit('.', 1)[-1]}={v}" for f, v in zip(others, key, strict=True))
        series.append(Series(name=name or metric, x=tuple(xs[r] for r in rows),
                             y=tuple(ys[r] for r in rows), style="linepoints"))
    left_out = len(groups) - len(series)
    notes = [x_note] if x_note else []
    if left_out:
        notes.append(f"{left_out} more combinations of {', '.join(others)} not drawn "
                     f"(at most {MAX_LINES} lines)")
    unit = sweep.units.get(metric, "").split(" (")[0]  # 's (without exposed ...)' -> 's'

    return Chart(
        plot_id="sweep-" + re.sub(r"[^a-z0-9]+", "-", metric.lower()).strip("-"),
        title=f"Sweep: {metric} vs {x_field}",
        caption=(f"{metric} across the sweep of {sweep.scenario or 'the scenario'}"
                 + (f"; one line per {', '.join(others)}" if others else "") + "."),
        x=Axis(label=x_field, log=_log(xs)),
        y=Axis(label=f"{metric} ({unit})" if unit else metric, log=_log(ys)),
        series=tuple(series), note="; ".join(notes))


def _x_values(values: list[Any]) -> tuple[list[float], str]:
    """Numbers as they are; text values by their sorted position, named in the note."""
    if _numeric(values):
        return [_float(v) for v in values], ""
    order = sorted({str(v) for v in values})
    return ([float(order.index(str(v))) for v in values],
            "x positions: " + ", ".join(f"{i}={v}" for i, v in enumerate(order)))


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _log(values: list[float]) -> bool:
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) >= LOG_RATIO
