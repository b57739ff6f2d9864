"""The sweep's grid: ``--set FIELD=V1,V2,…`` axes over scenario fields, and their product.

An axis is one dotted scenario field (``cluster.gpus``, ``training.zero_stage``) and its
values, written as a comma list (``1024,2048``), an arithmetic range ``a:b:step``
(``0:3:1`` is 0, 1, 2, 3: the end is included when the steps reach it) or a geometric
one ``a:b:xK`` (``1024:8192:x2`` is 1024, 2048, 4096, 8192); bounds may carry the
field's unit (``training.global_batch_tokens=4Mi:64Mi:x2``). Each value is read as a
YAML scalar (``16Mi`` stays a string, ``0.4`` a float) and validated by the field's own
scenario type, so units are parsed once here (``16Mi`` becomes 16777216).

The grid is the product of the axes, the first ``--set`` varying slowest (the order of
:func:`itertools.product`); its points are numbered in that order.

Raises :class:`SweepInputError` (exit 2) with one line naming the field and the value.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import math
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from mlfleet.errors import InputError, one_line
from mlfleet.scenario import Scenario
from mlfleet.scenario.fields import field_paths

MAX_POINTS = 10_000_000
"""Largest grid a sweep accepts (about 1 GB of metric columns)."""
MAX_RANGE_VALUES = 100_000
"""Largest number of values one range may expand to."""


class SweepInputError(InputError):
    """A ``--set`` axis, a value or a grid that a sweep cannot take (exit 2)."""


@dataclass(frozen=True, kw_only=True)
class Axis:
    """One swept field and the values it takes, validated and in SI units."""

    field: str
    """Dotted scenario path, e.g. ``cluster.gpus``."""
    values: tuple[Any, ...]
    """The field's values, parsed by its scenario type (``16Mi`` → 16777216)."""


@dataclass(frozen=True, kw_only=True)
class Grid:
    """The product of the axes; point ``i`` takes ``values_at(i)``."""

    axes: tuple[Axis, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(axis.field for axis in self.axes)

    @property
    def size(self) -> int:
        """Number of design points: the product of the axes' lengths."""
        return math.prod(len(axis.values) for axis in self.axes)

    def points(self) -> Iterator[tuple[Any, ...]]:
        """Every point's values in grid order (the first axis varies slowest)."""
        return itertools.product(*(axis.values for axis in self.axes))


def parse_grid(settings: Sequence[str]) -> Grid:
    """The grid of ``--set`` options; SweepInputError for any defect (module docstring)."""
    if not settings:
        raise SweepInputError("no --set given; give at least one, e.g. --set cluster.gpus=1024,2048")
    axes = tuple(parse_axis(setting) for setting in settings)
    seen = [axis.field for axis in axes]
    duplicate = next((f for f in seen if seen.count(f) > 1), None)
    if duplicate is not None:
        raise SweepInputError(f"--set {duplicate} is given twice; give each field once")
    grid = Grid(axes=axes)
    if grid.size > MAX_POINTS:
        raise SweepInputError(f"the grid has {grid.size:,} points; at most {MAX_POINTS:,} allowed")
    return grid


def parse_axis(setting: str) -> Axis:
    """One ``FIELD=V1,V2,…`` (or ``FIELD=a:b:step``) as a validated axis."""
    field, sep, text = setting.partition("=")
    field = field.strip()
    if not sep or not field:
        raise SweepInputError(f"--set {setting!r} is not FIELD=V1,V2,…; "
                              "e.g. --set cluster.gpus=1024,2048")
    check_field(field)
    raw = _expand(field, text)
    if not raw:
        raise SweepInputError(f"--set {field}= has no values; the grid would be empty")
    values = tuple(parse_value(field, value) for value in raw)
    return Axis(field=field, values=values)


def check_field(field: str) -> None:
    """SweepInputError naming ``field`` and its closest scenario fields when it is not one."""
    known = field_paths()
    if field in known:
        return
    near = difflib.get_close_matches(field, known, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(near)}?" if near else "see `mlfleet scenario schema`"
    raise SweepInputError(one_line(f"--set {field}: not a scenario field; {hint}"))


def parse_value(field: str, text: str) -> Any:
    """``text`` (a YAML scalar) validated by the scenario type of ``field``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = text
    if raw is None or isinstance(raw, list | dict):
        raise SweepInputError(f"--set {field}: {text!r} is not allowed; give a single value")
    try:
        return _adapter(field).validate_python(raw)
    except ValidationError as exc:
        raise SweepInputError(one_line(f"--set {field}: {text!r} is not allowed; "
                                       f"{_reason(exc)}")) from None


def _reason(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    cause = error.get("ctx", {}).get("error")
    return str(getattr(cause, "allowed", None) or error["msg"])


@cache
def _adapter(field: str) -> TypeAdapter[Any]:
    """A validator for one leaf field: its annotation and constraints, as the scenario has it."""
    model: type[BaseModel] = Scenario
    *sections, leaf = field.split(".")
    for name in sections:
        annotation = model.model_fields[name].annotation
        model = next(t for t in (annotation, *typing.get_args(annotation))
                     if isinstance(t, type) and issubclass(t, BaseModel))
    info = model.model_fields[leaf]
    annotated: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(annotated)


def _expand(field: str, text: str) -> list[str]:
    """The value strings of a comma list or a range."""
    parts = text.split(":")
    if len(parts) != 3:
        return [item.strip() for item in text.split(",") if item.strip()]
    start, stop = (_number(field, p) for p in parts[:2])
    step = parts[2].strip()
    values = _geometric(field, start, stop, step) if step.startswith("x") \
        else _arithmetic(field, start, stop, _number(field, step))
    return [repr(v) for v in values]


def _number(field: str, text: str) -> float | int:
    """A range bound or step: a plain number, else a quantity in the field's unit (``4Mi``)."""
    value: Any = text.strip()
    with contextlib.suppress(ValueError):
        value = int(value) if value.lstrip("+-").isdigit() else float(value)
    if isinstance(value, str) and value:
        with contextlib.suppress(SweepInputError):
            value = parse_value(field, value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SweepInputError(f"--set {field}: range bound {text!r} is not allowed; "
                              "a range a:b:step or a:b:xK takes numbers (or quantities "
                              "in the field's unit, e.g. 4Mi:64Mi:x2)")
    return value


def _arithmetic(field: str, start: float, stop: float, step: float) -> list[float | int]:
    if step <= 0 or stop < start:
        raise SweepInputError(f"--set {field}: range step {step!r} is not allowed; "
                              "a:b:step needs step > 0 and a <= b")
    count = math.floor((stop - start) / step + 1e-9) + 1
    _check_count(field, count)
    exact = all(isinstance(v, int) for v in (start, stop, step))
    return [start + i * step if exact else float(start + i * step) for i in range(count)]


def _geometric(field: str, start: float, stop: float, step: str) -> list[float | int]:
    ratio = _number(field, step[1:])
    if ratio <= 1 or start <= 0 or stop < start:
        raise SweepInputError(f"--set {field}: range step {step!r} is not allowed; "
                              "a:b:xK needs K > 1 and 0 < a <= b")
    count = math.floor(math.log(stop / start) / math.log(ratio) + 1e-9) + 1
    _check_count(field, count)
    exact = isinstance(start, int) and isinstance(ratio, int)
    return [start * ratio**i if exact else float(start * ratio**i) for i in range(count)]


def _check_count(field: str, count: int) -> None:
    if count > MAX_RANGE_VALUES:
        raise SweepInputError(f"--set {field}: the range has {count:,} values; "
                              f"at most {MAX_RANGE_VALUES:,} allowed")
