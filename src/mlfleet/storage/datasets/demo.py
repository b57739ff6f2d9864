"""A small synthetic click-log dataset in three versions, for docs, tests and trying out.

* v0: ``rows`` clicks (``user_id`` int64, ``dwell_s`` float64 log-normal, ``country``);
* v1: appends ``rows // 4`` clicks from the same distributions with a new nullable
  column ``device`` (a compatible schema change);
* v2: replaces them all (a new full export) with ``rows // 2`` clicks whose dwell time
  is 60 % longer and 10 % of whose countries are missing (drift and nulls the quality
  check should flag against v1).

Seeded: the same ``seed`` gives the same rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from mlfleet.checks import positive_int
from mlfleet.storage.datasets.versions import commit

COUNTRIES = ("US", "IN", "BR", "DE", "JP")
COUNTRY_P = (0.4, 0.25, 0.15, 0.1, 0.1)
DEVICES = ("ios", "android", "web")


def clicks(rng: np.random.Generator, rows: int, *, dwell_scale: float = 1.0,
           missing_country: float = 0.0, device: bool = False) -> pa.Table:
    """``rows`` synthetic clicks."""
    countries = rng.choice(COUNTRIES, size=rows, p=COUNTRY_P).tolist()
    mask = rng.random(rows) < missing_country
    columns: dict[str, pa.Array] = {
        "user_id": pa.array(rng.integers(0, 10_000, size=rows), type=pa.int64()),
        "dwell_s": pa.array(dwell_scale * rng.lognormal(mean=1.0, sigma=0.6, size=rows)),
        "country": pa.array([None if m else c for c, m in zip(countries, mask, strict=True)],
                            type=pa.string()),
    }
    if device:
        columns["device"] = pa.array(rng.choice(DEVICES, size=rows).tolist(), type=pa.string())
    return pa.table(columns)


def write_demo(path: Path, *, rows: int = 2000, seed: int = 0) -> int:
    """Write the three versions into a new dataset at ``path``; returns the last version."""
    positive_int("rows", rows, minimum=4)
    rng = np.random.default_rng(seed)
    commit(path, clicks(rng, rows), message="v0: first export of the click log")
    commit(path, clicks(rng, rows // 4, device=True), message="v1: add nullable column device")
    return commit(path, clicks(rng, rows // 2, dwell_scale=1.6, missing_country=0.1,
                               device=True), mode="overwrite",
                  message="v2: new client build (longer dwell, some countries missing)")
