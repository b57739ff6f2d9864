"""Per-metric pre-processing before classification (Kayenta's ``Transforms``).

NaN values are removed (``remove``, Kayenta's default) or replaced with zero
(``replace``: a missing count means none happened). Outliers are removed by the
interquartile-range rule with factor 3 (Kayenta's ``NetflixACAJudge.transformMetric``:
``IQRDetector(factor = 3.0, reduceSensitivity = true)``): values outside
``[Q1 - 3·IQR, Q3 + 3·IQR]`` go. Quartiles interpolate linearly (R type 7). When the
IQR is zero (e.g. error counts that are mostly zeros) nothing is removed: the
fences would otherwise drop every nonzero value, the signal itself; this is our
reading of "reduced sensitivity" (Kayenta's detector source is not in the copy we
read).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

NAN_STRATEGIES = ("remove", "replace")
OUTLIER_FACTOR = 3.0


def handle_nans(values: FloatArray, strategy: str) -> FloatArray:
    """``values`` without NaNs (``remove``) or with NaNs set to 0 (``replace``)."""
    nan = np.isnan(values)
    return values[~nan] if strategy == "remove" else np.where(nan, 0.0, values)


def remove_outliers(values: FloatArray, *, factor: float = OUTLIER_FACTOR) -> FloatArray:
    """``values`` inside the IQR fences (all of them when the IQR is 0 or n < 4)."""
    if values.size < 4:
        return values
    q1, q3 = np.quantile(values, [0.25, 0.75])
    iqr = q3 - q1
    if iqr == 0:
        return values
    keep: npt.NDArray[np.bool_] = (values >= q1 - factor * iqr) & (values <= q3 + factor * iqr)
    return values[keep]


def preprocess(values: FloatArray, *, nan_strategy: str = "remove",
               outliers: bool = True) -> FloatArray:
    """NaN handling, then outlier removal (when ``outliers``)."""
    clean = handle_nans(np.asarray(values, float), nan_strategy)
    return remove_outliers(clean) if outliers else clean
