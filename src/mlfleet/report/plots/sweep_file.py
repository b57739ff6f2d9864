"""Read a sweep written by ``mlfleet sweep``: a Parquet table plus its description.

Schema (``mlfleet sweep`` writes it): one column per swept scenario field, named by its
dotted path (``cluster.gpus``), then one column per metric; the Parquet key-value
metadata key ``mlfleet.sweep`` holds JSON ``{"scenario": path, "fields": [...],
"metrics": [...], "units": {metric: unit}}``. Needs pyarrow (the ``data`` extra).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet.errors import InputError

METADATA_KEY = b"mlfleet.sweep"


class SweepFileError(InputError):
    """A --sweep file that is missing, not Parquet, or not a sweep."""


@dataclass(frozen=True, kw_only=True)
class SweepTable:
    """A sweep's description and its columns (one list of values per field and metric)."""

    scenario: str
    fields: tuple[str, ...]
    metrics: tuple[str, ...]
    units: dict[str, str]
    columns: dict[str, list[Any]]

    @property
    def rows(self) -> int:
        return len(self.columns[self.fields[0]])


def read_sweep(path: Path) -> SweepTable:
    """The sweep at ``path``; SweepFileError (one line) for anything that is not one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise SweepFileError(f"--sweep {str(path)!r}: no such file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        why = str(exc).splitlines()[0].split(". ")[0]  # pyarrow's first sentence
        raise SweepFileError(f"--sweep {str(path)!r} is not a Parquet file ({why})") from None
    meta = (table.schema.metadata or {}).get(METADATA_KEY)
    if meta is None:
        raise SweepFileError(f"--sweep {str(path)!r} is not a sweep: its Parquet metadata has no "
                             f"{METADATA_KEY.decode()!r} key (write one with `mlfleet sweep`)")
    desc = _description(path, meta)
    missing = [c for c in (*desc["fields"], *desc["metrics"]) if c not in table.column_names]
    if missing:
        raise SweepFileError(f"--sweep {str(path)!r}: columns {', '.join(missing)} are named in "
                             "its metadata but missing from the table")
    if table.num_rows == 0:
        raise SweepFileError(f"--sweep {str(path)!r} has no rows")
    return SweepTable(scenario=str(desc.get("scenario", "")), fields=tuple(desc["fields"]),
                      metrics=tuple(desc["metrics"]), units=dict(desc.get("units") or {}),
                      columns={name: table.column(name).to_pylist()
                               for name in (*desc["fields"], *desc["metrics"])})


def _description(path: Path, raw: bytes) -> dict[str, Any]:
    """The metadata's JSON, checked: non-empty lists of column names, units a mapping."""
    try:
        desc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        desc = None
    ok = (isinstance(desc, dict)
          and all(isinstance(desc.get(k), list) and desc[k]
                  and all(isinstance(v, str) for v in desc[k]) for k in ("fields", "metrics"))
          and isinstance(desc.get("units", {}), dict))
    if not ok:
        raise SweepFileError(f"--sweep {str(path)!r}: its {METADATA_KEY.decode()!r} metadata must "
                             'be JSON {"scenario": ..., "fields": [names], "metrics": [names], '
                             '"units": {metric: unit}}')
    assert isinstance(desc, dict)
    return desc
