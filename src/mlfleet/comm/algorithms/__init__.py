"""Collective algorithms written once against the Transport interface (pure numpy, sum).

One module per algorithm family (``ring``, ``tree``, ``halving_doubling``,
``hierarchical``, ``binomial``, ``alltoall``, ``param_server``), torch's own
collectives as a reference (``builtin``), the mathematical definitions
(``definition``), and the registry tying names to functions and byte predictions
(``registry``). The chunking convention is in ``chunks``.
"""

from mlfleet.comm.algorithms.registry import (
    ALGORITHMS,
    Algorithm,
    algorithm_names,
    get_algorithm,
    predicted_bytes_sent,
    run_collective,
)

__all__ = ["ALGORITHMS", "Algorithm", "algorithm_names", "get_algorithm",
           "predicted_bytes_sent", "run_collective"]
