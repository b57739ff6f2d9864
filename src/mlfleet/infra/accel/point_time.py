"""A kernel model's prediction of a published GEMM or stream point.

A GEMM C(m,n) = A(m,k) @ B(k,n) executes 2mnk FLOP and moves its compulsory traffic
(m*k + k*n + m*n elements, as :func:`mlfleet.infra.roofline.gemm` counts it); a stream moves
the point's ``bytes`` and executes no FLOP. Both are timed by
:func:`~mlfleet.infra.accel.types.kernel_time` as one kernel of class ``gemm`` / ``stream``.
"""

from __future__ import annotations

from mlfleet.errors import InputError
from mlfleet.infra import roofline as rl
from mlfleet.infra.accel.published import PublishedPoint
from mlfleet.infra.accel.types import KernelModel, kernel_time

KERNEL_POINT_KINDS = ("gemm", "stream")
"""Point kinds that are one kernel and so are predicted here."""


def kernel_point_time(model: KernelModel, point: PublishedPoint) -> float:
    """Predicted seconds of a ``gemm`` or ``stream`` point on ``model``.

    Raises InputError for another kind (steps are the step model's; h2d the transfer model's).
    """
    if point.kind == "gemm":
        m, n, k = (float(point.shape[d]) for d in ("m", "n", "k"))
        cost = rl.gemm(m, n, k, bytes_per_element=rl.BYTES_PER_ELEMENT[point.precision])
        t = kernel_time(model, "gemm", flop=cost.flop, mem_bytes=cost.mem_bytes)
        return float(t.device_s)
    if point.kind == "stream":
        t = kernel_time(model, "stream", flop=0.0, mem_bytes=float(point.shape["bytes"]))
        return float(t.device_s)
    raise InputError(f"point {point.id}: kind {point.kind!r} is not a single kernel; "
                     f"kernel points are {', '.join(KERNEL_POINT_KINDS)}")
