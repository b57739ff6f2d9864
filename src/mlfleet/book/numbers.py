"""Stable number formatting for book tables: a fixed number of significant digits.

Two runs of the same models print the same characters, so a table in a chapter can be
compared with a fresh one byte for byte.
"""

from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 4
"""Significant digits of every number in a book table."""
LARGEST_EXPONENT = 15
"""From 10^15 up numbers are written with an exponent, as below 10^-4."""


def format_cell(value: str | int | float | bool | None, *,
                digits: int = SIGNIFICANT_DIGITS) -> str:
    """Text of one cell: None -> '–', flags -> yes/no, ints with thousands separators,
    floats rounded to ``digits`` significant digits (exponent form below 1e-4 and from 1e15)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    return _float(float(value), digits)


def _float(value: float, digits: int) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits - 1}e}")  # round first: 9.9996 has exponent 1, not 0
    value = rounded if math.isfinite(rounded) else value
    exponent = math.floor(math.log10(abs(value)))
    if exponent < -4 or exponent >= LARGEST_EXPONENT:
        return f"{value:.{digits - 1}e}"
    decimals = digits - 1 - exponent
    if decimals <= 0:
        return f"{round(value, decimals):,.0f}"
    return f"{value:,.{decimals}f}"
