"""Terminal rendering with rich (imported here, lazily, never at ``import mlfleet``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlfleet import units


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "") -> None:
    """Print a table; cells are converted with ``str``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    Console(soft_wrap=False, width=_width()).print(table)


UNFOLDED_WIDTH = 10_000
"""Console width for a pipe without ``COLUMNS``: wider than any table, so none is folded
(a table is drawn at its natural width, never padded to the console's)."""
MIN_WIDTH = 20
"""The narrowest width a table is folded to, whatever ``COLUMNS`` says."""


def table_width(*, is_tty: bool, columns_env: str | None, terminal_columns: int) -> int:
    """Characters a table may use.

    On a terminal: its width (at least 100). Piped: ``COLUMNS`` when it is set to a
    positive integer (at least :data:`MIN_WIDTH`), so ``COLUMNS=60 mlfleet … | less``
    folds to 60; otherwise :data:`UNFOLDED_WIDTH`, so scripts get whole lines.
    """
    if is_tty:
        return max(100, terminal_columns)
    columns = (columns_env or "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(MIN_WIDTH, int(columns))
    return UNFOLDED_WIDTH


def _width() -> int:
    """:func:`table_width` for this process's stdout and environment."""
    import os
    import shutil
    import sys

    return table_width(is_tty=sys.stdout.isatty(), columns_env=os.environ.get("COLUMNS"),
                       terminal_columns=shutil.get_terminal_size((120, 40)).columns)


def format_value(name: str, value: Any) -> str:
    """Human text for a value whose unit is named by the suffix of ``name``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if name.endswith("_per_month"):
        return format_value(name.removesuffix("_per_month"), value) + "/month"
    if "flops_per_s" in name:
        return units.format_flops(value)
    if name.endswith("_bytes_per_s"):
        return units.format_rate(value)
    if name.endswith(("_bytes", "_bytes_per_gpu")):
        return units.format_bytes(value)
    if name.endswith("_flop"):
        return f"{value:.3g} FLOP"
    if name.endswith("_usd_per_h"):
        return f"${value:,.2f}/h"
    if name.endswith("_usd_per_gb_month"):
        return f"${value:.4g}/GB-month"
    if name.endswith("_usd_per_year"):
        return f"${value:,.0f}/year"
    if name.endswith("_usd"):
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"
    if name.endswith("_w"):
        return _watts(value)
    if name.endswith("_per_s"):
        return f"{value:,.4g}/s"
    if name.endswith("_s"):
        return units.format_duration(value)
    if name.endswith("_kwh"):
        return f"{value:,.4g} kWh"
    if name.startswith(("mfu", "utilization")) or name.endswith("_fraction") or "_fraction_" in name:
        return f"{value:.1%}"
    if name.endswith("year") or name.endswith("generation"):
        return str(value)
    if isinstance(value, float) and 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.6g}" if isinstance(value, float) else f"{value:,}"


def _watts(value: float) -> str:
    for factor, suffix in ((1e9, "GW"), (1e6, "MW"), (1e3, "kW")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {suffix}"
    return f"{value:,.0f} W"
