"""Parameter server (star) aggregation: workers push gradients, servers reduce, workers pull.

With W workers pushing S bytes each to k server shards (S/k per shard), each server
receives W·S/k and sends W·S/k back, while each worker sends and receives S. The
push and the pull each last as long as the slower side:

    T = 2·max(k, W/k)·α + 2·max(S/B_w, W·S/(k·B_s)) + (W/k)·S·γ

so once W > k·B_s/B_w the servers' links are the ceiling and time grows linearly
with the worker count, unlike a ring whose per-rank volume stays below 2S. As in
the other models a rank handles one message at a time (one port), so a server pays
α for each of its W/k workers and a worker for each of its k shards.

Source: Li et al. 2014, "Scaling Distributed Machine Learning with the Parameter
Server", OSDI (sharded servers, push/pull); the bandwidth argument follows
Sergeev & Del Balso 2018 §2 (Horovod's motivation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mlfleet.checks import FloatArray, positive
from mlfleet.comm.cost.inputs import link_terms, ranks, sizes
from mlfleet.errors import CommInputError


def parameter_server_allreduce_time(n_workers: ArrayLike, size_bytes: ArrayLike, *,
                                    alpha_s: float, worker_bw_bytes_per_s: float,
                                    server_bw_bytes_per_s: float | None = None,
                                    servers: ArrayLike = 1,
                                    gamma_s_per_byte: float = 0.0) -> FloatArray:
    """Seconds for one push + pull of ``size_bytes`` per worker through ``servers`` shards.

    ``server_bw_bytes_per_s`` defaults to the workers' bandwidth.
    """
    w = ranks(n_workers, minimum=1, name="n_workers")
    s = sizes(size_bytes)
    k = ranks(servers, minimum=1, name="servers")
    bw_w = positive("worker_bw_bytes_per_s", worker_bw_bytes_per_s, error=CommInputError)
    bw_s = bw_w if server_bw_bytes_per_s is None else positive(
        "server_bw_bytes_per_s", server_bw_bytes_per_s, error=CommInputError)
    a, _, g = link_terms(alpha_s, bw_w, gamma_s_per_byte)
    messages = np.maximum(k, w / k)
    return 2.0 * messages * a + 2.0 * np.maximum(s / bw_w, w * s / (k * bw_s)) + w / k * s * g


def parameter_server_saturation_workers(*, servers: int, worker_bw_bytes_per_s: float,
                                        server_bw_bytes_per_s: float) -> float:
    """Worker count beyond which the servers' links, not the workers', set the time: k·B_s/B_w."""
    return (positive("servers", servers, error=CommInputError)
            * positive("server_bw_bytes_per_s", server_bw_bytes_per_s, error=CommInputError)
            / positive("worker_bw_bytes_per_s", worker_bw_bytes_per_s, error=CommInputError))


def parameter_server_steps_per_s_ceiling(n_workers: ArrayLike, grad_bytes: float, *,
                                         servers: int, worker_bw_bytes_per_s: float,
                                         server_bw_bytes_per_s: float) -> FloatArray:
    """Upper bound on synchronous steps/s from communication alone (α = 0, no overlap).

    1 / (2·max(G/B_w, W·G/(k·B_s))): flat up to the saturation worker count, then
    falling as 1/W; aggregate samples/s therefore stops growing with W.
    """
    time_s = parameter_server_allreduce_time(
        n_workers, grad_bytes, alpha_s=0.0, worker_bw_bytes_per_s=worker_bw_bytes_per_s,
        server_bw_bytes_per_s=server_bw_bytes_per_s, servers=servers)
    return np.asarray(1.0 / time_s, dtype=np.float64)
