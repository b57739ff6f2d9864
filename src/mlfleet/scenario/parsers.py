"""Scenario field validators: numbers, counts, quantities with units, ratios, catalog
names, choices and text. Each raises :class:`_Invalid`, which the loader turns into one
:class:`~mlfleet.errors.ScenarioError` line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    WithJsonSchema,
)

from mlfleet import catalog
from mlfleet.catalog.types import PRECISIONS
from mlfleet.errors import CatalogError, UnitError
from mlfleet.units import BitsForBytesError, parse_quantity

TRAINING_PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8")
"""Precisions a training job may name (the catalog must define a peak for the accelerator)."""
SERVING_PRECISIONS = PRECISIONS
"""Precisions a serving deployment may name (training's plus int8)."""

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read (a real one is a few kB)."""
MAX_GPUS = 10_000_000
"""Largest accelerator count a cluster may name (well above any cluster built so far)."""
MAX_COUNT = 10**18
"""Largest count elsewhere (tokens, samples, degrees)."""
DEFAULT_SCENARIO = "llm-pretraining"
"""The bundled example `mlfleet plan` runs without an argument."""
_DEFAULTED = ("prices", "constraints")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

# ---------------------------------------------------------------------------------------------
# Field validators. Each raises _Invalid, which the loader turns into one ScenarioError line.


_INPUT: Any = object()
"""_Invalid.value meaning 'the input pydantic reports for this location'."""
_MISSING: Any = object()
"""_Invalid.value meaning 'the field is absent'."""


class _Invalid(ValueError):
    """A value that is not allowed, raised inside pydantic validation.

    ``path`` extends the location pydantic reports (for checks that span fields);
    ``verbatim`` messages (catalog errors) are printed after the path as they are.
    """

    def __init__(self, allowed: str, *, value: Any = _INPUT, path: tuple[str, ...] = (),
                 verbatim: bool = False) -> None:
        super().__init__(allowed)
        self.allowed, self.value, self.path, self.verbatim = allowed, value, path, verbatim


def _invalid(allowed: str, value: Any, *path: str) -> _Invalid:
    return _Invalid(allowed, value=value, path=path)


def _as_number(raw: Any, target: str) -> float | int | None:
    """``raw`` as a number in ``target`` units, or None when it is not a finite quantity."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().endswith("%") and target == "count":
        number = _as_number(raw.strip()[:-1], target)
        return None if number is None else number / 100.0
    if not isinstance(raw, float | str) or len(str(raw)) > 100:
        return None
    try:
        value = parse_quantity(raw, target)
    except BitsForBytesError:
        raise
    except (UnitError, OverflowError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _count(allowed: str, *, minimum: int = 1, maximum: int = MAX_COUNT) -> Callable[[Any], int]:
    """Validator for an integer count; accepts ``16384``, ``"16k"``, ``"4Mi"``, ``1.6e4``."""

    def validate(raw: Any) -> int:
        number = _as_number(raw, "count")
        if number is None or (isinstance(number, float) and not number.is_integer()):
            raise _Invalid(allowed)
        if not minimum <= number <= maximum:
            raise _Invalid(allowed if number < minimum else f"{allowed} no larger than {maximum:,}")
        return int(number)

    return validate


_PHRASES: Mapping[str, str] = {
    "bytes": "size such as 15TB, 80GiB or a number of bytes",
    "s": "duration such as 10ms, 30d or a number of seconds",
    "per_s": "rate such as 50000/s, 50k or a number per second",
    "w": "power such as 20MW or a number of watts",
    "usd": "amount of money such as $250000, 1.5M or a number of USD",
    "usd_per_h": "price per hour such as $2.50/h or a number of USD per hour",
    "usd_per_kwh": "energy price such as $0.10/kWh or a number of USD per kWh",
}


def _quantity(target: str, *, allow_zero: bool = False) -> Callable[[Any], float]:
    """Validator for a quantity in SI units: a unit string or a number in ``target`` units."""
    allowed = f"must be a {'non-negative' if allow_zero else 'positive'} {_PHRASES[target]}"

    def validate(raw: Any) -> float:
        try:
            number = _as_number(raw, target)
        except BitsForBytesError as exc:  # say why "64kb" is refused, not only what is allowed
            raise _Invalid(str(exc), verbatim=True) from None
        if number is None or number < 0 or (number == 0 and not allow_zero):
            raise _Invalid(allowed)
        return float(number)

    return validate


def _ratio(lo: float, hi: float, *, lo_open: bool = False, what: str) -> Callable[[Any], float]:
    """Validator for a dimensionless number in [lo, hi] (or (lo, hi]); ``"40%"`` is 0.4."""
    bracket = "(" if lo_open else "["
    allowed = f"must be {what}, a number in {bracket}{lo:g}, {hi:g}]"

    def validate(raw: Any) -> float:
        number = _as_number(raw, "count")
        if number is None or number > hi or number < lo or (lo_open and number == lo):
            raise _Invalid(allowed)
        return float(number)

    return validate


def _catalog_name(kind: str) -> Callable[[Any], str]:
    """Validator for a catalog name of ``kind``; returns the canonical name."""

    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
            raise _Invalid(f"must be a catalog {kind} name (see `mlfleet catalog list {kind}`)")
        try:
            return catalog.get(raw.strip(), kind=kind).name
        except CatalogError as exc:
            raise _Invalid(str(exc), verbatim=True) from None

    return validate


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or raw.strip().lower() not in choices:
            raise _Invalid(f"must be one of {', '.join(choices)}")
        return raw.strip().lower()

    return validate


def _scheduling_policy(raw: Any) -> str:
    """Validator for a cluster-scheduling policy name (``mlfleet sim cluster --policy``)."""
    from mlfleet.infra.scheduling.policies import POLICIES

    known = tuple(sorted(POLICIES))
    if not isinstance(raw, str) or raw.strip().lower() not in known:
        raise _Invalid(f"must be a scheduling policy: {', '.join(known)}")
    return raw.strip().lower()


def _text(*, max_chars: int, single_line: bool) -> Callable[[Any], str]:
    line = "a single line of text" if single_line else "text"
    allowed = f"must be {line} of 1 to {max_chars:,} characters"

    def validate(raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip() or len(raw) > max_chars:
            raise _Invalid(allowed)
        if single_line and len(raw.splitlines()) > 1:
            raise _Invalid(allowed)
        return raw.strip()

    return validate


_QUANTITY_SCHEMA = WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]})
_COUNT_SCHEMA = WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]})
_RATIO_SCHEMA = WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]})


def _names_schema(kind: str) -> WithJsonSchema:
    known = catalog.names(kind)
    return WithJsonSchema({"type": "string", **({"examples": known} if known else {})})


# The vocabulary of field types: what the file may say, and the SI value the model holds.
PositiveInt = Annotated[int, BeforeValidator(_count("must be a positive integer")), _COUNT_SCHEMA]
GpuCount = Annotated[int, BeforeValidator(_count("must be a positive integer", maximum=MAX_GPUS)),
                     _COUNT_SCHEMA]
ZeroStage = Annotated[int, BeforeValidator(_count("must be 0, 1, 2 or 3", minimum=0, maximum=3)),
                      WithJsonSchema({"enum": [0, 1, 2, 3]})]
Bytes = Annotated[float, BeforeValidator(_quantity("bytes")), _QUANTITY_SCHEMA]
Seconds = Annotated[float, BeforeValidator(_quantity("s")), _QUANTITY_SCHEMA]
PerSecond = Annotated[float, BeforeValidator(_quantity("per_s")), _QUANTITY_SCHEMA]
Watts = Annotated[float, BeforeValidator(_quantity("w")), _QUANTITY_SCHEMA]
Usd = Annotated[float, BeforeValidator(_quantity("usd")), _QUANTITY_SCHEMA]
PriceUsd = Annotated[float, BeforeValidator(_quantity("usd", allow_zero=True)), _QUANTITY_SCHEMA]
UsdPerH = Annotated[float, BeforeValidator(_quantity("usd_per_h", allow_zero=True)),
                    _QUANTITY_SCHEMA]
UsdPerKwh = Annotated[float, BeforeValidator(_quantity("usd_per_kwh", allow_zero=True)),
                      _QUANTITY_SCHEMA]
Fraction = Annotated[float, BeforeValidator(_ratio(0.0, 1.0, lo_open=True, what="a fraction")),
                     _RATIO_SCHEMA]
Ratio = Annotated[float, BeforeValidator(_ratio(1.0, 1000.0, what="a ratio")), _RATIO_SCHEMA]
Pue = Annotated[float, BeforeValidator(_ratio(1.0, 3.0, what="a power usage effectiveness")),
                _RATIO_SCHEMA]
Epochs = Annotated[float, BeforeValidator(_ratio(0.0, 1e6, lo_open=True,
                                                 what="a number of epochs")), _RATIO_SCHEMA]
ShortText = Annotated[str, BeforeValidator(_text(max_chars=100, single_line=True)),
                      WithJsonSchema({"type": "string", "maxLength": 100})]
LongText = Annotated[str, BeforeValidator(_text(max_chars=10_000, single_line=False)),
                     WithJsonSchema({"type": "string"})]
SchedulingPolicy = Annotated[str, BeforeValidator(_scheduling_policy),
                             WithJsonSchema({"type": "string"})]
TrainingPrecision = Annotated[str, BeforeValidator(_choice(TRAINING_PRECISIONS)),
                              WithJsonSchema({"enum": list(TRAINING_PRECISIONS)})]
ServingPrecision = Annotated[str, BeforeValidator(_choice(SERVING_PRECISIONS)),
                             WithJsonSchema({"enum": list(SERVING_PRECISIONS)})]
WorkloadName = Annotated[str, BeforeValidator(_catalog_name("workload")), _names_schema("workload")]
AcceleratorName = Annotated[str, BeforeValidator(_catalog_name("accelerator")),
                            _names_schema("accelerator")]
InterconnectName = Annotated[str, BeforeValidator(_catalog_name("interconnect")),
                             _names_schema("interconnect")]
ClusterName = Annotated[str, BeforeValidator(_catalog_name("cluster")), _names_schema("cluster")]
StorageName = Annotated[str, BeforeValidator(_catalog_name("storage")), _names_schema("storage")]
