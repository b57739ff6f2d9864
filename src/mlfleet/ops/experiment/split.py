"""Traffic splitting: each unit's arm is a pure function of (salt, unit id).

A unit's bucket is the first 8 bytes of SHA-256(salt ‖ 0x00 ‖ unit id) read as an
unsigned integer over 2⁶⁴, a number uniform in [0, 1); the arm is the one whose slice
of the cumulative weights holds it. The same unit always lands in the same arm of the
same experiment (no state to store), and two experiments with different salts split
independently (each experiment is its own hash function), the property overlapping
experiments rely on (Tang et al., "Overlapping Experiment Infrastructure", KDD 2010).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from mlfleet.ops.experiment.errors import ExperimentInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
TOTAL_PERCENT = 100.0
"""Weights are percentages and must add up to this."""


def parse_weights(text: str) -> dict[str, float]:
    """``"control=50,treatment=50"`` -> ``{"control": 0.5, "treatment": 0.5}`` (fractions).

    Each weight is a percentage > 0; the arms are unique, at least two, and the weights
    sum to 100 (within 1e-6). Raises :class:`ExperimentInputError` naming the bad part.
    """
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, sep, number = (s.strip() for s in part.partition("="))
        if not sep or not name:
            raise ExperimentInputError(f"weights(={text!r}): {part.strip()!r} must look like "
                                       "ARM=PERCENT, e.g. control=50,treatment=50")
        if name in weights:
            raise ExperimentInputError(f"weights(={text!r}): arm {name!r} appears twice")
        weights[name] = _percent(name, number.rstrip("%").strip(), text)
    if len(weights) < 2:
        raise ExperimentInputError(f"weights(={text!r}) must name at least two arms")
    total = sum(weights.values())
    if abs(total - TOTAL_PERCENT) > 1e-6:
        raise ExperimentInputError(f"weights(={text!r}) sum to {total:g}%; they must sum to "
                                   "100%")
    return {name: w / TOTAL_PERCENT for name, w in weights.items()}


def _percent(name: str, number: str, text: str) -> float:
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ExperimentInputError(f"weights(={text!r}): {name}(={number!r}) must be a "
                                   "percentage > 0")
    return value


def buckets(unit_ids: Iterable[str], *, salt: str) -> FloatArray:
    """Each unit's position in [0, 1): SHA-256(salt ‖ 0x00 ‖ id)[:8] / 2⁶⁴."""
    prefix = salt.encode("utf-8", "surrogatepass") + b"\x00"
    digests = b"".join(hashlib.sha256(prefix + str(u).encode("utf-8", "surrogatepass")).digest()[:8]
                       for u in unit_ids)
    words = np.frombuffer(digests, dtype=">u8")
    return words.astype(np.float64) / 2.0 ** 64


def assign(unit_ids: Iterable[str], *, salt: str, weights: Mapping[str, float]) -> IntArray:
    """Per unit, the index of its arm in ``weights`` (fractions summing to 1)."""
    edges = np.cumsum(list(weights.values()))
    edges[-1] = np.inf  # rounding must never leave a unit past the last arm
    return np.searchsorted(edges, buckets(unit_ids, salt=salt), side="right").astype(np.int64)


@dataclass(frozen=True, kw_only=True)
class Independence:
    """Chi-square test of independence of two experiments' assignments (a contingency table)."""

    table: tuple[tuple[int, ...], ...]
    """Units per (arm of the first experiment, arm of the second)."""
    chi2: float
    """Pearson's statistic of the table against the product of its margins."""
    p_value: float
    """P(χ² ≥ chi2) under independence."""


def independence(arm_a: IntArray, arm_b: IntArray, *, arms_a: int, arms_b: int) -> Independence:
    """Test that two assignments of the same units are independent (no Yates correction).

    Arms no unit fell into carry no evidence and are left out of the test (a table with an
    empty row or column has no expected count there); with one arm left on a side the
    statistic is 0 and p = 1."""
    table = np.zeros((arms_a, arms_b), dtype=np.int64)
    np.add.at(table, (arm_a, arm_b), 1)
    seen = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    chi2, p_value, _, _ = stats.chi2_contingency(seen, correction=False) if seen.size else (
        0.0, 1.0, 0, None)
    return Independence(table=tuple(tuple(int(c) for c in row) for row in table),
                        chi2=float(chi2), p_value=float(p_value))


def unit_range(count: int) -> Sequence[str]:
    """The ids ``"0" … "count-1"``: a stand-in population for ``--units N``."""
    return [str(i) for i in range(count)]
