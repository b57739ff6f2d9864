"""Aggregate compressed gradients across ranks over a Transport, counting real bytes.

Summable codecs (dense float32, fp16) ride a ring allreduce of the payload
itself: per rank 2(n−1)/n · P bytes. The others (sparse or per-rank-scaled
payloads) cannot be added while compressed, so each rank allgathers every
rank's packed payload and decodes and averages locally: (n−1) · P bytes per
rank. The rings are :mod:`mlfleet.comm.algorithms.ring`'s. That allgather
penalty grows with the number of ranks and is one reason compression pays
less than its ratio suggests (Agarwal et al. 2022, "On the utility of
gradient compression in distributed training systems", MLSys).
"""

from __future__ import annotations

import numpy as np

from mlfleet.comm.algorithms.ring import allgather_ring, allreduce_ring
from mlfleet.comm.compression.base import Compressor, make_payload, pack, unpack
from mlfleet.comm.transport.base import Transport


def aggregate_mean(
    transport: Transport, compressor: Compressor, grad: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The mean over ranks of each rank's compressed-then-decoded ``grad`` (float32, grad's shape).

    Every rank gets bit-identical results (same payloads, same order of operations).
    """
    n = transport.world_size
    if compressor.summable:
        # Divide before encoding, as DDP's fp16 hook does, so the fp16 sum cannot overflow.
        payload = compressor.encode(grad / np.float32(n), rng)
        (field,) = compressor.layout(grad.size)
        summed = allreduce_ring(transport, payload.buffers[field.name])
        return compressor.decode(make_payload((field,), **{field.name: summed}), grad.shape)
    layout = compressor.layout(grad.size)
    wire_bytes = pack(compressor.encode(grad, rng))
    gathered = allgather_ring(transport, wire_bytes).reshape(n, wire_bytes.size)
    total = np.zeros(grad.size, np.float32)
    for wire in gathered:  # rank order: every rank sums in the same order, bit-identical
        compressor.accumulate(unpack(wire, layout), total)
    return (total / np.float32(n)).reshape(grad.shape)
