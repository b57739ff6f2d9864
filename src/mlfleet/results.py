"""What the Python API returns: typed results that turn into JSON and Arrow tables.

Every result of :mod:`mlfleet.api` is a frozen dataclass with this mixin:

* ``to_dict()`` — strict JSON types only (:func:`mlfleet.strict_json.to_strict`: numpy
  values become Python numbers and lists, a non-finite float becomes ``None`` with a
  ``<key>_null_reason`` beside it), so ``json.dumps(r.to_dict(), allow_nan=False)``
  always works;
* ``to_arrow()`` — for tabular results (:class:`TableResult`), a ``pyarrow.Table`` with
  one row per :meth:`TableResult.rows` entry (the ``data`` extra); ``.to_pandas()`` on
  it gives a DataFrame where pandas is installed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from mlfleet.strict_json import to_strict

if TYPE_CHECKING:
    import pyarrow as pa


class Result:
    """Mixin of a frozen dataclass result: :meth:`to_dict`."""

    def to_dict(self) -> dict[str, Any]:
        """The result as strict JSON types (module docstring)."""
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} is not a dataclass")
        plain: dict[str, Any] = to_strict({f.name: getattr(self, f.name)
                                           for f in dataclasses.fields(self)})
        return plain


class TableResult(Result):
    """A result with rows: :meth:`rows` (plain dicts, one per row) and :meth:`to_arrow`."""

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, with the same keys in every row."""
        raise NotImplementedError

    def to_arrow(self) -> pa.Table:
        """The rows as a ``pyarrow.Table`` (the ``data`` extra); non-finite floats as null."""
        import pyarrow as pa

        rows = self.rows()
        plain: list[dict[str, Any]] = to_strict(rows)
        names = list(rows[0]) if rows else []
        return pa.Table.from_pylist([{k: row[k] for k in names} for row in plain])
