"""A sweep's table as Parquet, written whole or not at all.

Columns: one per swept field, named by its dotted path (``cluster.gpus``), then any
derived field (:mod:`mlfleet.sweep.combinations`), then the metric columns, then ``invalid_reason`` (null where the point is a valid scenario; the
metrics are null where it is not). The file's key-value metadata holds, under
:data:`METADATA_KEY`, JSON ``{"scenario", "fields", "derived_fields", "metrics", "units",
"mlfleet_version", "points", "invalid_points", "question"}`` — ``mlfleet report --sweep``
reads it. pyarrow is the ``data`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfleet import atomic
from mlfleet.sweep.grid import SweepInputError

METADATA_KEY = b"mlfleet.sweep"
"""The Parquet key-value metadata key of a sweep's description."""


@dataclass(frozen=True, kw_only=True)
class SweepTable:
    """What a sweep writes: the grid's columns, the metrics and their description."""

    scenario: str
    question: str
    """``training`` (closed form), ``serving`` or ``cluster`` (simulations)."""
    fields: tuple[str, ...]
    field_values: tuple[Sequence[Any], ...]
    """One sequence per field, one entry per point."""
    metrics: Mapping[str, Sequence[Any] | npt.NDArray[np.generic]]
    """One column per metric, one entry per point (None / NaN where the point is invalid)."""
    units: Mapping[str, str]
    invalid_reason: Sequence[str | None]
    derived: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    """Fields the sweep set from the swept ones (``training.parallelism.data``), per point."""

    def description(self) -> dict[str, Any]:
        """The JSON stored under :data:`METADATA_KEY`."""
        from mlfleet import __version__

        return {"scenario": self.scenario, "question": self.question,
                "fields": list(self.fields), "derived_fields": list(self.derived),
                "metrics": list(self.metrics),
                "units": dict(self.units), "mlfleet_version": __version__,
                "points": len(self.invalid_reason),
                "invalid_points": sum(r is not None for r in self.invalid_reason)}


def check_writable(out: Path) -> None:
    """SweepInputError now, before any work, when ``out`` cannot be written."""
    atomic.check_writable(out, error=SweepInputError)


def write_table(table: SweepTable, out: Path) -> None:
    """Write ``table`` to ``out`` atomically (a temporary file renamed over it); no partial
    file is left on any error or interrupt. SweepInputError when it cannot be written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {field: _column(pa, values) for field, values in
               zip(table.fields, table.field_values, strict=True)}
    columns.update({name: _column(pa, values) for name, values in table.derived.items()})
    columns.update({name: _column(pa, values) for name, values in table.metrics.items()})
    columns["invalid_reason"] = pa.array(list(table.invalid_reason), type=pa.string())
    arrow = pa.table(columns).replace_schema_metadata(
        {METADATA_KEY: json.dumps(table.description(), allow_nan=False).encode()})
    atomic.replace_atomically(out, lambda tmp: pq.write_table(arrow, tmp), error=SweepInputError)


def _column(pa: Any, values: Sequence[Any] | npt.NDArray[np.generic]) -> Any:
    """An Arrow column; NaN and None become null, a mixed-type column becomes strings."""
    if isinstance(values, np.ndarray):
        mask = np.isnan(values) if values.dtype.kind == "f" else None
        return pa.array(values, mask=mask)
    try:
        return pa.array(list(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
