"""When does gradient compression pay? A step-time comparison from the α-β cost model.

The spec's fallacy "gradient compression always helps": compression trades
codec compute for wire bytes, and only wins when the exchange is on the
critical path. Per training step, with n ranks, dense gradient S bytes,
compression ratio r, link latency α and bandwidth B:

* dense exchange: ring AllReduce, T_d = 2(n−1)α + 2(n−1)/n · S/B;
* compressed, summable codec (fp16): ring AllReduce of S/r;
* compressed, otherwise (top-k, int8, QSGD ...): ring AllGather of every
  rank's S/r payload, T = (n−1)α + (n−1) · (S/r)/B — its bandwidth term grows
  with n, unlike the allreduce's (Agarwal et al. 2022, MLSys, "On the utility
  of gradient compression in distributed training systems"): on bandwidth
  alone an allgathered codec beats the ring only if r > n/2;
* codec: encode once, decode one payload (summable) or decode and sum n
  payloads (allgather); it runs on the same processor as backward, so it is
  never hidden;
* the reduction arithmetic inside a ring AllReduce, (n−1)/n · S · γ (the γ term
  of :mod:`mlfleet.comm.cost`), with γ per byte of the dtype being added: it
  matters where adds are slow — numpy adds float16 in software, ~30× slower per
  byte than float32 on this CPU.

With ``overlap`` (DDP-style bucketing) communication hides under the backward
pass: time = max(backward, comm) + codec; without, backward + comm + codec.
Compression pays when the compressed step is faster. The ring formulas are
:mod:`mlfleet.comm.cost` (Thakur, Rabenseifner & Gropp 2005; Patarasuk & Yuan 2009).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mlfleet.comm.cost.allgather import ring_allgather_time
from mlfleet.comm.cost.allreduce import ring_allreduce_time
from mlfleet.errors import InputError


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The verdict and the step times it rests on (seconds)."""

    pays: bool
    """Whether the compressed step is strictly faster than the dense one."""
    time_dense_s: float
    """Backward + exposed dense communication."""
    time_compressed_s: float
    """Backward + exposed compressed communication + codec."""
    comm_dense_s: float
    """Dense ring AllReduce time."""
    comm_compressed_s: float
    """Compressed exchange time (AllReduce if summable, else AllGather)."""
    codec_s: float
    """Encode + decode(s) per step."""
    reason: str
    """One line saying which regime applies and why."""


def compressed_comm_s(
    *, payload_bytes: float, n_ranks: int, alpha_s: float, bw_bytes_per_s: float, summable: bool,
    gamma_s_per_byte: float = 0.0,
) -> float:
    """Exchange time of one compressed payload per rank: ring AllReduce (adding at
    ``gamma_s_per_byte``) or ring AllGather (no arithmetic on the way)."""
    if summable:
        return float(
            ring_allreduce_time(
                n_ranks, payload_bytes, alpha_s=alpha_s, bw_bytes_per_s=bw_bytes_per_s,
                gamma_s_per_byte=gamma_s_per_byte,
            )
        )
    # nccl-tests convention: AllGather's size is the gathered output, n payloads.
    return float(
        ring_allgather_time(
            n_ranks, n_ranks * payload_bytes, alpha_s=alpha_s, bw_bytes_per_s=bw_bytes_per_s
        )
    )


def compression_pays(
    *,
    grad_bytes: float,
    compression_ratio: float,
    encode_s: float,
    decode_s: float,
    n_ranks: int,
    bw_bytes_per_s: float,
    alpha_s: float,
    backward_compute_s: float,
    overlap: bool = True,
    summable: bool = False,
    gamma_s_per_byte: float = 0.0,
    payload_gamma_s_per_byte: float | None = None,
) -> Decision:
    """Compare one data-parallel step with and without compression.

    ``encode_s`` is everything a rank does before the exchange; ``decode_s`` the
    time to decode one payload and add it into the sum (an allgathered codec
    pays it n times); ``summable`` says whether the codec's payloads can be
    allreduced (fp16) or must be allgathered. ``gamma_s_per_byte``: seconds per
    byte to add the dense gradient's dtype inside the AllReduce;
    ``payload_gamma_s_per_byte``: the same for a summable payload's dtype
    (None: ``gamma_s_per_byte``). Raises InputError for a ratio < 1, fewer than
    2 ranks, or negative sizes and times.
    """
    payload_gamma = gamma_s_per_byte if payload_gamma_s_per_byte is None \
        else payload_gamma_s_per_byte
    _check(
        grad_bytes=grad_bytes,
        compression_ratio=compression_ratio,
        encode_s=encode_s,
        decode_s=decode_s,
        n_ranks=n_ranks,
        backward_compute_s=backward_compute_s,
        gamma_s_per_byte=gamma_s_per_byte,
        payload_gamma_s_per_byte=payload_gamma,
    )
    link = {"alpha_s": alpha_s, "bw_bytes_per_s": bw_bytes_per_s}
    comm_dense = float(ring_allreduce_time(n_ranks, grad_bytes, gamma_s_per_byte=gamma_s_per_byte,
                                           **link))
    comm_comp = compressed_comm_s(
        payload_bytes=grad_bytes / compression_ratio, n_ranks=n_ranks, summable=summable,
        gamma_s_per_byte=payload_gamma, **link
    )
    codec = encode_s + decode_s * (1 if summable else n_ranks)

    def combine(compute_s: float, comm_s: float) -> float:
        return max(compute_s, comm_s) if overlap else compute_s + comm_s

    t_dense = combine(backward_compute_s, comm_dense)
    t_comp = combine(backward_compute_s, float(comm_comp)) + codec
    decision = Decision(
        pays=t_comp < t_dense,
        time_dense_s=t_dense,
        time_compressed_s=t_comp,
        comm_dense_s=comm_dense,
        comm_compressed_s=comm_comp,
        codec_s=codec,
        reason="",
    )
    return replace(
        decision, reason=_reason(decision, backward_compute_s, overlap=overlap, n_ranks=n_ranks)
    )


def _reason(d: Decision, backward_s: float, *, overlap: bool, n_ranks: int) -> str:
    exposed_dense = max(0.0, d.comm_dense_s - backward_s) if overlap else d.comm_dense_s
    exposed_comp = max(0.0, d.comm_compressed_s - backward_s) if overlap else d.comm_compressed_s
    saved = exposed_dense - exposed_comp
    if overlap and exposed_dense == 0.0:
        return (
            f"compute-bound: the dense exchange ({d.comm_dense_s:.3g} s) hides under backward "
            f"({backward_s:.3g} s); compression can only add its codec ({d.codec_s:.3g} s)"
        )
    if d.comm_compressed_s >= d.comm_dense_s:
        # Bandwidth terms: allgather (n−1)·S/r vs ring 2(n−1)/n·S, so r must exceed n/2.
        return (
            f"exchange-bound: the compressed exchange ({d.comm_compressed_s:.3g} s) is no faster "
            f"than the dense ring allreduce ({d.comm_dense_s:.3g} s); an allgathered payload "
            f"must be more than n/2 = {n_ranks / 2:g}x smaller to win"
        )
    if saved <= d.codec_s:
        return (
            f"codec-bound: compression saves {saved:.3g} s of exposed communication "
            f"but costs {d.codec_s:.3g} s of encode/decode"
        )
    return (
        f"bandwidth-bound: exposed communication drops from {exposed_dense:.3g} s to "
        f"{exposed_comp:.3g} s, codec {d.codec_s:.3g} s; step {d.time_dense_s:.3g} s -> "
        f"{d.time_compressed_s:.3g} s"
    )


def _check(**values: float) -> None:
    if values["compression_ratio"] < 1.0:
        raise InputError(f"compression_ratio(={values['compression_ratio']}) must be >= 1")
    if values["n_ranks"] < 2 or values["n_ranks"] != int(values["n_ranks"]):
        raise InputError(f"n_ranks(={values['n_ranks']}) must be a whole number >= 2")
    for name, value in values.items():
        if not value >= 0:
            raise InputError(f"{name}(={value}) must be >= 0")
