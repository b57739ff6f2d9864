"""Data quality: schema, null rates, and drift (PSI, KS) of a dataset against a reference.

* **PSI**, population stability index (Siddiqi, *Credit Risk Scorecards*, 2006, ch. 8;
  Yurdakul, "Statistical properties of the population stability index", 2018):
  ``Σ (a_i - e_i) · ln(a_i / e_i)`` over bins of the reference's deciles (numeric
  columns) or over categories (others), proportions floored at 1e-4 so an empty bin
  stays finite. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 shifted.
* **KS**, two-sample Kolmogorov-Smirnov statistic ``D = sup |F_ref - F_new|`` over the
  pooled values (numeric columns), with the asymptotic p-value scipy's ``ks_2samp``
  (``method="asymp"``) gives: ``kstwo.sf(D, round(n·m / (n+m)))``.

Nulls are left out of the drift statistics and counted in the null rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from mlfleet.checks import fraction, positive, positive_int
from mlfleet.storage.datasets.versions import SchemaChange, schema_change

PSI_FLOOR = 1e-4
"""Smallest bin proportion in PSI (an empty bin would make it infinite)."""


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, *, bins: int = 10) -> float:
    """PSI of numeric ``actual`` against ``expected``, in bins of ``expected``'s quantiles."""
    positive_int("bins", bins)
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.size == 0 or a.size == 0:
        return 0.0
    inner = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    e_counts = np.bincount(np.searchsorted(inner, e, side="right"), minlength=inner.size + 1)
    a_counts = np.bincount(np.searchsorted(inner, a, side="right"), minlength=inner.size + 1)
    return _psi_from_counts(e_counts, a_counts)


def psi_categorical(expected: Sequence[object], actual: Sequence[object]) -> float:
    """PSI over the categories of either list."""
    categories = sorted({*map(str, expected), *map(str, actual)})
    index = {c: i for i, c in enumerate(categories)}
    e_counts = np.bincount([index[str(v)] for v in expected], minlength=len(categories))
    a_counts = np.bincount([index[str(v)] for v in actual], minlength=len(categories))
    return _psi_from_counts(e_counts, a_counts) if expected and actual else 0.0


def _psi_from_counts(e_counts: npt.NDArray[np.int64], a_counts: npt.NDArray[np.int64]) -> float:
    e = np.maximum(e_counts / e_counts.sum(), PSI_FLOOR)
    a = np.maximum(a_counts / a_counts.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(expected: npt.ArrayLike, actual: npt.ArrayLike) -> tuple[float, float]:
    """(D, asymptotic p-value) of the two-sample KS test (see the module docstring)."""
    from scipy.stats import kstwo

    e = np.sort(np.asarray(expected, dtype=np.float64))
    a = np.sort(np.asarray(actual, dtype=np.float64))
    if e.size == 0 or a.size == 0:
        return 0.0, 1.0
    pooled = np.concatenate([e, a])
    d = float(np.max(np.abs(np.searchsorted(e, pooled, side="right") / e.size
                            - np.searchsorted(a, pooled, side="right") / a.size)))
    n_eff = max(1, round(e.size * a.size / (e.size + a.size)))  # scipy: nan below 1
    return d, float(np.clip(kstwo.sf(d, n_eff), 0.0, 1.0))


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Limits a column must stay within."""

    null_rate_max: float = 0.05
    """Largest share of nulls."""
    psi_max: float = 0.25
    """Largest PSI (above: the population shifted)."""
    ks_max: float = 0.1
    """Largest KS statistic D (a p-value alone flags tiny shifts in big samples)."""

    def __post_init__(self) -> None:
        fraction("null_rate_max", self.null_rate_max)
        positive("psi_max", self.psi_max)
        fraction("ks_max", self.ks_max)


@dataclass(frozen=True, kw_only=True)
class ColumnQuality:
    """One column's checks."""

    name: str
    """Column name."""
    type: str
    """Arrow type."""
    null_rate: float
    """Share of nulls."""
    psi: float | None = None
    """PSI against the reference (None: no reference or column)."""
    ks_d: float | None = None
    """KS statistic D (numeric columns)."""
    ks_p: float | None = None
    """KS asymptotic p-value."""
    problems: tuple[str, ...] = ()
    """What exceeded a threshold, in words."""


@dataclass(frozen=True, kw_only=True)
class QualityReport:
    """Every check of a table against its reference."""

    rows: int
    """Rows checked."""
    reference_rows: int | None
    """Rows of the reference (None: none given)."""
    schema: SchemaChange | None
    """Schema change from the reference (None: no reference)."""
    columns: tuple[ColumnQuality, ...]
    """Per column."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    """The limits applied."""

    @property
    def problems(self) -> list[str]:
        """Every problem found, schema first."""
        found = [] if self.schema is None or self.schema.compatible else \
            [f"schema: {self.schema.describe()}"]
        return found + [f"{c.name}: {p}" for c in self.columns for p in c.problems]

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.problems


def _values(column: pa.ChunkedArray) -> pa.Array:
    return pc.drop_null(column).combine_chunks()


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _column(name: str, column: pa.ChunkedArray, reference: pa.ChunkedArray | None,
            limits: Thresholds) -> ColumnQuality:
    nulls = column.null_count / len(column) if len(column) else 0.0
    problems = [f"null rate {nulls:.1%} > {limits.null_rate_max:.1%}"] \
        if nulls > limits.null_rate_max else []
    drift: dict[str, float | None] = {"psi": None, "ks_d": None, "ks_p": None}
    if reference is not None and _numeric(column.type) and _numeric(reference.type):
        new, old = _values(column).to_numpy(), _values(reference).to_numpy()
        drift["psi"] = psi(old, new)
        drift["ks_d"], drift["ks_p"] = ks(old, new)
    elif reference is not None:
        drift["psi"] = psi_categorical(_values(reference).to_pylist(), _values(column).to_pylist())
    if drift["psi"] is not None and drift["psi"] > limits.psi_max:
        problems.append(f"PSI {drift['psi']:.3f} > {limits.psi_max}")
    if drift["ks_d"] is not None and drift["ks_d"] > limits.ks_max:
        problems.append(f"KS D {drift['ks_d']:.3f} > {limits.ks_max}")
    return ColumnQuality(name=name, type=str(column.type), null_rate=nulls,
                         problems=tuple(problems), **drift)


def check_quality(table: pa.Table, *, reference: pa.Table | None = None,
                  thresholds: Thresholds | None = None) -> QualityReport:
    """Schema (against ``reference``), null rates and drift of every column of ``table``."""
    limits = thresholds or Thresholds()
    ref_names = set(reference.column_names) if reference is not None else set()
    columns = tuple(
        _column(name, table.column(name),
                reference.column(name) if reference is not None and name in ref_names else None,
                limits)
        for name in table.column_names)
    return QualityReport(rows=table.num_rows,
                         reference_rows=None if reference is None else reference.num_rows,
                         schema=None if reference is None else schema_change(reference.schema,
                                                                             table.schema),
                         columns=columns, thresholds=limits)
