"""Will ``mlfleet run collective`` fit in memory? Checked before any worker starts.

Every rank holds, for the largest size S it measures, its input, its output and one
scratch buffer the algorithm and the transport receive into (S bytes each; an
AlltoAll with a hot expert may receive ``n_ranks × hot_fraction × S``), and with the
definition check two more (:func:`mlfleet.comm.algorithms.definition.matches_definition`
regenerates inputs one at a time), on top of the interpreter, numpy and mlfleet
(:data:`PROCESS_BYTES`). The run is refused with one line when the ranks together
need more than the machine has available: they all run on this machine, an emulated
lab's hosts included.
"""

from __future__ import annotations

from mlfleet.comm.algorithms.benchmark import CollectiveJob
from mlfleet.errors import InputError

PROCESS_BYTES = 30_000_000
"""A rank before its buffers: ``import numpy, mlfleet.comm.algorithms.benchmark`` peaked
at 27 MB (``ru_maxrss``, Python 3.11, here); rounded up."""
BUFFERS = 3
"""Input, output and scratch, each of the message size."""
CHECK_BUFFERS = 2
"""The definition check's running result and the regenerated input."""


def rank_bytes(job: CollectiveJob, n_ranks: int) -> int:
    """Peak bytes one rank needs for ``job`` on ``n_ranks`` ranks (see the module)."""
    size = max(job.sizes_bytes)
    output = size
    if job.collective == "alltoall" and job.hot_fraction is not None:
        output = max(size, int(n_ranks * job.hot_fraction * size))
    buffers = size * (BUFFERS - 1) + output + (CHECK_BUFFERS * size if job.check else 0)
    return PROCESS_BYTES + buffers


def check_run_memory(job: CollectiveJob, n_ranks: int, available: int) -> None:
    """InputError when ``n_ranks`` ranks of ``job`` need more than ``available`` bytes."""
    need = n_ranks * rank_bytes(job, n_ranks)
    if need > available:
        raise InputError(
            f"--ranks {n_ranks} × --sizes up to {max(job.sizes_bytes):_} bytes needs about "
            f"{need / 1e9:.3g} GB ({n_ranks} ranks × {rank_bytes(job, n_ranks) / 1e9:.3g} GB: "
            f"input, output, scratch{', definition check' if job.check else ''}) and "
            f"{available / 1e9:.3g} GB is available: use smaller --sizes or fewer --ranks")
