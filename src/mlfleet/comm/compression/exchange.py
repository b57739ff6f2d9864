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
    Three phases, public so that their costs can be timed on their own
    (:mod:`~mlfleet.comm.compression.measure`): :func:`prepare` (local),
    :func:`combine` (the collective), :func:`finish` (local).
    """
    wire = prepare(compressor, grad, transport.world_size, rng)
    return finish(compressor, combine(transport, compressor, wire), grad.shape,
                  transport.world_size)


def prepare(compressor: Compressor, grad: np.ndarray, n_ranks: int,
            rng: np.random.Generator) -> np.ndarray:
    """This rank's buffer for the collective: the encoded ``grad / n`` (summable codecs,
    divided first as DDP's fp16 hook does, so the sum cannot overflow) or the packed
    encoded ``grad`` (the others)."""
    if compressor.summable:
        payload = compressor.encode(grad / np.float32(n_ranks), rng)
        (field,) = compressor.layout(grad.size)
        return payload.buffers[field.name]
    return pack(compressor.encode(grad, rng))


def combine(transport: Transport, compressor: Compressor, wire: np.ndarray) -> np.ndarray:
    """The collective: ring allreduce of summable payloads, else ring allgather (n rows)."""
    if compressor.summable:
        return allreduce_ring(transport, wire)
    return allgather_ring(transport, wire).reshape(transport.world_size, wire.size)


def finish(compressor: Compressor, combined: np.ndarray, shape: tuple[int, ...],
           n_ranks: int) -> np.ndarray:
    """The mean from :func:`combine`'s result: decode the sum, or decode and average every
    rank's payload in rank order (so every rank's bits are the same)."""
    numel = int(np.prod(shape, dtype=np.int64))
    layout = compressor.layout(numel)
    if compressor.summable:
        (field,) = layout
        return compressor.decode(make_payload((field,), **{field.name: combined}), shape)
    total = np.zeros(numel, np.float32)
    for wire in combined:
        compressor.accumulate(unpack(wire, layout), total)
    return (total / np.float32(n_ranks)).reshape(shape)
