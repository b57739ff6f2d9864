"""Quantities with units, parsed only at the edges (scenario files, CLI, catalog data).

Inside mlfleet every quantity is a plain float in SI base units, and its name
carries the unit (``latency_s``, ``hbm_bytes``, ``link_bw_bytes_per_s``).
This module turns strings such as ``"400Gb/s"``, ``"80GiB"``, ``"2ms"``,
``"$2.50/h"`` or ``"1e15 FLOP/s"`` into those floats, and back into text.

Conventions (tested in ``tests/test_units.py``):

* ``B`` is a byte, ``b``/``bit`` is a bit (1/8 byte): ``400Gb/s`` = 50e9 bytes/s.
  Bits are for rates: a size in bytes written in bits (``64kb`` where bytes are
  expected) is refused, since a silent factor of 8 is worse than an error.
* SI prefixes are decimal (``1GB`` = 1e9 bytes), IEC prefixes binary
  (``1GiB`` = 2**30 bytes). ``K`` is accepted as a synonym of ``k``.
* A bare size suffix without a unit (``4K``, ``64M``) follows nccl-tests and
  means binary bytes (``4K`` = 4096) when a byte quantity is expected, and a
  decimal multiplier (``50k`` = 50,000) otherwise.
* ``FLOPS`` means FLOP per second; ``FLOPs`` is a plural count of FLOP.
* Time: ``ns us µs ms s min h d month year``; a month is 1/12 of a Gregorian year.
* Money is ``$``/``USD``; ``$2.50/h`` with target ``usd_per_h`` is 2.5.
* A bare number is taken as already being in the target unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from mlfleet.errors import InputError, UnitError

# A dimension is a sorted tuple of (base, exponent); bases: B (byte), s, FLOP, W, USD.
Dimension = tuple[tuple[str, int], ...]

_SECONDS_PER_YEAR = 365.2425 * 86400.0
_SI_PREFIX: Mapping[str, float] = {
    "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}
_SUB_PREFIX: Mapping[str, float] = {"m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12}
_IEC_PREFIX: Mapping[str, float] = {
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}

# base token -> (scale to SI, dimension exponents, whether sub-unit prefixes make sense)
_BASES: Mapping[str, tuple[float, dict[str, int], bool]] = {
    "B": (1.0, {"B": 1}, False),
    "byte": (1.0, {"B": 1}, False),
    "bytes": (1.0, {"B": 1}, False),
    "b": (0.125, {"B": 1}, False),
    "bit": (0.125, {"B": 1}, False),
    "bits": (0.125, {"B": 1}, False),
    "bps": (0.125, {"B": 1, "s": -1}, False),
    "FLOP": (1.0, {"FLOP": 1}, False),
    "FLOPs": (1.0, {"FLOP": 1}, False),
    "flop": (1.0, {"FLOP": 1}, False),
    "FLOPS": (1.0, {"FLOP": 1, "s": -1}, False),
    "s": (1.0, {"s": 1}, True),
    "sec": (1.0, {"s": 1}, True),
    "min": (60.0, {"s": 1}, False),
    "h": (3600.0, {"s": 1}, False),
    "hr": (3600.0, {"s": 1}, False),
    "hour": (3600.0, {"s": 1}, False),
    "d": (86400.0, {"s": 1}, False),
    "day": (86400.0, {"s": 1}, False),
    "month": (_SECONDS_PER_YEAR / 12.0, {"s": 1}, False),
    "year": (_SECONDS_PER_YEAR, {"s": 1}, False),
    "yr": (_SECONDS_PER_YEAR, {"s": 1}, False),
    "W": (1.0, {"W": 1}, True),
    "Wh": (3600.0, {"W": 1, "s": 1}, False),
    "J": (1.0, {"W": 1, "s": 1}, True),
    "Hz": (1.0, {"s": -1}, False),
    "USD": (1.0, {"USD": 1}, False),
    "$": (1.0, {"USD": 1}, False),
    # counted things: dimensionless, so "$/GPU-h" and "req/s" parse naturally
    "GPU": (1.0, {}, False),
    "req": (1.0, {}, False),
    "token": (1.0, {}, False),
    "tokens": (1.0, {}, False),
}
# tc(8) style rates: "1gbit" means 1 gigabit per second on a link.
_TC_TOKENS: Mapping[str, float] = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12}

#: Target units by name: (dimension, size of one target unit in SI base units).
TARGETS: Mapping[str, tuple[dict[str, int], float]] = {
    "count": ({}, 1.0),
    "bytes": ({"B": 1}, 1.0),
    "bits": ({"B": 1}, 0.125),
    "bytes_per_s": ({"B": 1, "s": -1}, 1.0),
    "bits_per_s": ({"B": 1, "s": -1}, 0.125),
    "s": ({"s": 1}, 1.0),
    "h": ({"s": 1}, 3600.0),
    "per_s": ({"s": -1}, 1.0),
    "flop": ({"FLOP": 1}, 1.0),
    "flop_per_s": ({"FLOP": 1, "s": -1}, 1.0),
    "w": ({"W": 1}, 1.0),
    "j": ({"W": 1, "s": 1}, 1.0),
    "usd": ({"USD": 1}, 1.0),
    "usd_per_h": ({"USD": 1, "s": -1}, 1.0 / 3600.0),
    "usd_per_kwh": ({"USD": 1, "W": -1, "s": -1}, 1.0 / 3.6e6),
    "usd_per_gb_month": ({"USD": 1, "B": -1, "s": -1}, 1.0 / (1e9 * _SECONDS_PER_YEAR / 12.0)),
}

_NUMBER = r"[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY_RE = re.compile(rf"^\s*(?P<dollar>\$)?\s*(?P<num>{_NUMBER})\s*(?P<unit>.*?)\s*$")


def _dim(exps: Mapping[str, int]) -> Dimension:
    return tuple(sorted((k, v) for k, v in exps.items() if v != 0))


def _add(acc: dict[str, int], exps: Mapping[str, int], sign: int) -> None:
    for base, exp in exps.items():
        acc[base] = acc.get(base, 0) + sign * exp


def _token(token: str, text: str) -> tuple[float, dict[str, int]]:
    """Scale and dimension of one unit token such as ``GiB``, ``ms`` or ``TFLOP``."""
    if token in _BASES:
        scale, exps, _ = _BASES[token]
        return scale, dict(exps)
    if token in _SI_PREFIX or token in _IEC_PREFIX:  # a lone multiplier: "50k req/s"
        return {**_SI_PREFIX, **_IEC_PREFIX}[token], {}
    if token in _TC_TOKENS:
        return _TC_TOKENS[token] / 8.0, {"B": 1, "s": -1}
    for table in (_IEC_PREFIX, _SI_PREFIX, _SUB_PREFIX):
        for prefix, factor in table.items():
            rest = token[len(prefix):]
            if token.startswith(prefix) and rest in _BASES:
                scale, exps, allows_sub = _BASES[rest]
                if table is _SUB_PREFIX and not allows_sub:
                    raise UnitError(
                        f"{text!r}: prefix {prefix!r} (1/{1 / factor:g}) makes no sense on "
                        f"{rest!r}; did you mean {prefix.upper()}{rest}?"
                    )
                return factor * scale, dict(exps)
    raise UnitError(
        f"{text!r}: unknown unit {token!r}; use e.g. B, GiB, Gb/s, ms, h, TFLOP/s, W, $/h"
    )


def _split_tokens(part: str) -> list[str]:
    return [t for t in re.split(r"[-·*\s]+", part) if t]


def _unit(unit: str, text: str) -> tuple[float, dict[str, int]]:
    """Scale and dimension exponents of a unit expression like ``GB/s`` or ``$/GB-month``."""
    parts = unit.split("/")
    if len(parts) > 2 or any(p.strip() == "" for p in parts[1:]):
        raise UnitError(f"{text!r}: unit {unit!r} must look like 'X' or 'X/Y'")
    scale, exps = 1.0, dict[str, int]()
    for sign, part in zip((1, -1), parts, strict=False):
        for token in _split_tokens(part):
            token_scale, token_exps = _token(token, text)
            scale = scale * token_scale if sign > 0 else scale / token_scale
            _add(exps, token_exps, sign)
    return scale, exps


def _bare_suffix(unit: str, target: str) -> float | None:
    """Multiplier for a bare size suffix (``4K``, ``64M``, ``2Gi``), or None if not one."""
    if unit in _IEC_PREFIX:
        return _IEC_PREFIX[unit]
    if unit in _SI_PREFIX:
        if target in ("bytes", "bits"):
            return 2.0 ** (10 * ("KMGTPE".index(unit.upper()) + 1))  # nccl-tests sizes
        return _SI_PREFIX[unit]
    return None


def parse_quantity(text: str | float | int, target: str) -> float:
    """Parse ``text`` and return its value in the ``target`` unit (a key of :data:`TARGETS`).

    Raises :class:`UnitError` naming the text when it cannot be parsed, has the wrong
    dimension for ``target``, or is not finite; :class:`BitsForBytesError` when ``target``
    is ``"bytes"`` and the text is in bits (``64kb``).
    """
    if target not in TARGETS:
        raise UnitError(f"unknown target unit {target!r}; known: {', '.join(TARGETS)}")
    want_exps, want_scale = TARGETS[target]
    if isinstance(text, bool):
        raise UnitError(f"{text!r} is not a quantity; expected a number or a string like '10 GB'")
    if isinstance(text, int | float):
        try:
            return _finite(float(text), text)
        except OverflowError:
            raise UnitError(f"{text!r} is not a finite number") from None
    if not isinstance(text, str):
        raise UnitError(f"{text!r} is not a quantity; expected a number or a string like '10 GB'")
    match = _QUANTITY_RE.match(text)
    if match is None:
        raise UnitError(f"{text!r} is not a quantity; expected a number and a unit, e.g. '10 GB'")
    number = float(match["num"].replace("_", ""))
    unit = match["unit"]
    if match["dollar"]:
        unit = "$" + unit if unit.startswith("/") or unit == "" else "$·" + unit
    bare = _bare_suffix(unit, target)
    if bare is not None:
        return _finite(number * bare, text)
    scale, exps = _unit(unit, text) if unit else (want_scale, dict(want_exps))
    if target == "bytes":
        _refuse_bits(unit, number, text)
    if _dim(exps) != _dim(want_exps):
        raise UnitError(f"{text!r} is not a {describe_target(target)} quantity")
    # Round to 15 significant digits so unit-scale round-off ($0.12/kWh -> 0.11999...) vanishes.
    return _finite(float(f"{number * scale / want_scale:.15g}"), text)


class BitsForBytesError(UnitError):
    """A size in bytes was written in bits (``64kb``); the message says what to write."""


_BIT_UNIT_RE = re.compile(r"^(?P<prefix>[kKMGTPE]i?|)(?:b|bit|bits)$")
_PREFIX_NAMES: Mapping[str, str] = {
    "": "", "k": "kilo", "K": "kilo", "M": "mega", "G": "giga", "T": "tera", "P": "peta",
    "E": "exa", "Ki": "kibi", "Mi": "mebi", "Gi": "gibi", "Ti": "tebi", "Pi": "pebi",
    "Ei": "exbi",
}


def _refuse_bits(unit: str, number: float, text: str) -> None:
    """Raise :class:`BitsForBytesError` when a size in bytes is written in bits (``64kb``)."""
    match = _BIT_UNIT_RE.match(unit.strip())
    if match is None:
        return
    prefix = match["prefix"]
    byte_prefix = "k" if prefix == "K" else prefix
    raise BitsForBytesError(
        f"{text.strip()} is {_PREFIX_NAMES[prefix]}bits; a size is in bytes: write "
        f"{number:g}{byte_prefix}B or {number / 8:g}{byte_prefix}B"
    )


def _finite(value: float, text: object) -> float:
    if not math.isfinite(value):
        raise UnitError(f"{text!r} is not a finite number")
    return value


def describe_target(target: str) -> str:
    """A human name for a target unit, used in error messages."""
    return {
        "count": "dimensionless", "bytes": "size (bytes)", "bits": "size (bits)",
        "bytes_per_s": "bandwidth (e.g. 50GB/s, 400Gb/s)",
        "bits_per_s": "bandwidth (e.g. 400Gb/s, 1gbit)", "s": "duration (e.g. 2ms, 3h)",
        "h": "duration (e.g. 3h)", "per_s": "rate (e.g. 50000/s)", "flop": "FLOP count",
        "flop_per_s": "compute rate (e.g. 989TFLOP/s)", "w": "power (e.g. 700W)",
        "j": "energy (e.g. 1kWh)", "usd": "money (e.g. $30000)",
        "usd_per_h": "price per hour (e.g. $2.50/h)", "usd_per_kwh": "energy price (e.g. $0.10/kWh)",
        "usd_per_gb_month": "storage price (e.g. $0.023/GB-month)",
    }.get(target, target)


def _scaled(value: float, steps: list[tuple[float, str]], digits: int) -> str:
    for factor, suffix in steps:
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {suffix}"
    factor, suffix = steps[-1]
    return f"{value / factor:.{digits}g} {suffix}"


def duration_option(option: str, text: str, *, allow_zero: bool = False) -> float:
    """A command-line duration in seconds: ``duration_option("--interval", "2min") == 120.0``.

    Text that is not a duration raises UnitError prefixed with ``option``; a negative
    duration (or zero, unless ``allow_zero``) raises InputError naming the value."""
    try:
        value = parse_quantity(text, "s")
    except UnitError as exc:
        raise UnitError(f"{option}: {exc}") from None
    if not (value > 0 or (allow_zero and value == 0)):
        raise InputError(f"{option}(={text!r}) must be a duration {'>=' if allow_zero else '>'} 0")
    return value


def format_bytes(n_bytes: float, *, digits: int = 3) -> str:
    """Decimal (SI) text for a byte count: ``format_bytes(8e10) == '80 GB'``."""
    steps = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "B")]
    return _scaled(n_bytes, steps, digits)


def format_rate(bytes_per_s: float, *, digits: int = 3) -> str:
    """Bandwidth text in bytes per second: ``'50 GB/s'``."""
    return format_bytes(bytes_per_s, digits=digits) + "/s"


def format_flops(flop_per_s: float, *, digits: int = 3) -> str:
    """Compute-rate text: ``'989 TFLOP/s'``."""
    steps = [(1e18, "EFLOP/s"), (1e15, "PFLOP/s"), (1e12, "TFLOP/s"), (1e9, "GFLOP/s"),
             (1e6, "MFLOP/s"), (1.0, "FLOP/s")]
    return _scaled(flop_per_s, steps, digits)


def format_duration(seconds: float, *, digits: int = 3) -> str:
    """Duration text with a fitting unit: ``'2 ms'``, ``'3.5 h'``."""
    if abs(seconds) >= 86400 * 2:
        return f"{seconds / 86400:.{digits}g} d"
    steps = [(3600.0, "h"), (60.0, "min"), (1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")]
    return _scaled(seconds, steps, digits)
