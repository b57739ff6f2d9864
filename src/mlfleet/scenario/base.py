"""The base of every scenario section: frozen, unknown keys refused, docstrings as help."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Spec(BaseModel):
    # Field docstrings become the JSON Schema descriptions and the 'required:' hints.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
