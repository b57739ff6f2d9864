"""Builders shared by the load generator's tests."""

from __future__ import annotations

from mlfleet.serving.loadgen_spec import LoadSpec


def load_spec(**overrides: object) -> LoadSpec:
    """A rank-endpoint spec at 50 req/s for 1 s (nothing listens on port 1)."""
    base: dict[str, object] = {"url": "http://127.0.0.1:1/v1/rank", "rate_rps": 50.0,
                               "duration_s": 1.0}
    return LoadSpec(**{**base, **overrides})  # type: ignore[arg-type]
