"""Every collective algorithm equals its definition bit for bit, and sends exactly the
bytes its ``predicted_bytes_sent`` says — ranks as threads over real sockets (fast).

The same algorithms across real processes, on both backends and against
torch.distributed's own collectives, are in ``test_algorithms_processes.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlfleet.comm.algorithms import ALGORITHMS, get_algorithm, predicted_bytes_sent
from mlfleet.comm.algorithms.alltoall import hot_expert_counts, uniform_counts
from mlfleet.comm.algorithms.chunks import chunk_bounds, chunk_sizes
from mlfleet.comm.algorithms.conformance import Case
from mlfleet.comm.algorithms.definition import expected_outputs, matches_definition, same_bits
from mlfleet.comm.algorithms.registry import algorithm_names, run_collective
from mlfleet.comm.transport.socket import SocketTransport, local_mesh, run_on_threads
from mlfleet.errors import InputError

OURS = sorted(key for key, a in ALGORITHMS.items() if a.name != "builtin")
_MESHES: dict[int, list[SocketTransport]] = {}


def mesh(n: int) -> list[SocketTransport]:
    """One cached in-process mesh per rank count (building one per example is wasteful)."""
    if n not in _MESHES:
        _MESHES[n] = local_mesh(n, timeout_s=10.0)
    return _MESHES[n]


def param_variants(collective: str, name: str, n: int) -> list[dict[str, Any]]:
    """Every interesting parameter setting of an algorithm on ``n`` ranks."""
    if name == "hierarchical":
        return [{"ranks_per_node": g, "mode": m} for g in range(1, n + 1) if n % g == 0
                for m in ("shard", "leader")]
    if name == "ps":
        return [{"n_servers": k} for k in sorted({1, 2, n} & set(range(1, n + 1)))]
    if name == "ring":  # default, unpipelined, and pipelined finer than the chunk allows
        return [{}, {"blocks": 1}, {"blocks": 3}, {"blocks": 64}]
    if collective in ("broadcast", "reduce"):
        return [{"root": r} for r in sorted({0, n - 1, n // 2})]
    return [{}]


def check_case(case: Case, n: int) -> None:
    """Run ``case`` on an ``n``-rank mesh; compare outputs and bytes with their definitions."""
    transports = mesh(n)
    inputs = [case.make_input(r) for r in range(n)]
    originals = [x.copy() for x in inputs]
    for x in inputs:  # no algorithm may write its input (out of place, like NCCL's sendbuff)
        x.setflags(write=False)
    before = [t.bytes_sent() for t in transports]
    try:
        outs = run_on_threads(transports, lambda t: run_collective(
            t, case.collective, case.algorithm, inputs[t.rank], **case.params))
    except BaseException:
        _MESHES.pop(n, None)  # a failed rank closed its transport
        raise
    measured = [{p: t.bytes_sent()[p] - before[r][p] for p in before[r]}
                for r, t in enumerate(transports)]
    expected = expected_outputs(case.collective, inputs, root=case.params.get("root", 0),
                                counts=case.params.get("counts"))
    for r in range(n):
        assert same_bits(outs[r], expected[r]), (case, n, r)
        assert same_bits(inputs[r], originals[r]), (case, n, r)
        assert outs[r].flags.writeable and not np.shares_memory(outs[r], inputs[r]), (case, r)
    itemsize = np.dtype(case.dtype).itemsize
    assert predicted_bytes_sent(case.collective, case.algorithm, n, case.numel, itemsize,
                                **case.params) == measured, (case, n)


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("collective,name", OURS)
def test_every_algorithm_on_every_rank_count_and_awkward_sizes(collective: str, name: str,
                                                               n: int) -> None:
    for numel in sorted({0, 1, 3, n - 1, n, n + 1, 2 * n + 3, 1000}):
        for params in param_variants(collective, name, n):
            check_case(Case(collective=collective, algorithm=name, numel=numel, seed=numel,
                            params=params), n)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Case, int]:
    n = draw(st.integers(1, 8))
    collective, name = draw(st.sampled_from(OURS))
    numel = draw(st.one_of(st.integers(0, 2 * n), st.integers(0, 5000)))
    dtype = draw(st.sampled_from(["float32", "float64", "int32", "int64", "uint8", "float16"]))
    params = draw(st.sampled_from(param_variants(collective, name, n)))
    if collective == "alltoall" and draw(st.booleans()):
        counts = draw(st.lists(st.lists(st.integers(0, 50), min_size=n, max_size=n),
                               min_size=n, max_size=n))
        params = {"counts": counts}
    return Case(collective=collective, algorithm=name, numel=numel, dtype=dtype,
                seed=draw(st.integers(0, 2**31)), params=params), n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_property_equals_definition_and_byte_prediction(drawn: tuple[Case, int]) -> None:
    case, n = drawn
    if "counts" in case.params:
        case = Case(collective=case.collective, algorithm=case.algorithm,
                    numel=0, dtype=case.dtype, seed=case.seed, params=case.params)
    check_case(case, n)


def test_ring_chunking_convention_is_array_split() -> None:
    assert chunk_sizes(10, 4) == [3, 3, 2, 2]
    assert chunk_sizes(3, 4) == [1, 1, 1, 0]
    assert chunk_bounds(10, 4) == [(0, 3), (3, 6), (6, 8), (8, 10)]
    assert [len(c) for c in np.array_split(np.arange(10), 4)] == chunk_sizes(10, 4)


def test_ring_predictions_match_the_closed_form() -> None:
    # 2(n-1)/n·S per rank when n divides numel; all of it to the right neighbour.
    sent = predicted_bytes_sent("allreduce", "ring", 4, 1000, 4)
    assert sent[0] == {1: 2 * 3 * 250 * 4, 2: 0, 3: 0}
    assert predicted_bytes_sent("allgather", "ring", 4, 10, 8)[3] == {0: 3 * 10 * 8, 1: 0, 2: 0}
    assert predicted_bytes_sent("reducescatter", "ring", 4, 10, 1)[0] == {1: 7, 2: 0, 3: 0}


def test_parameter_server_link_carries_two_n_minus_one_buffers() -> None:
    sent = predicted_bytes_sent("allreduce", "ps", 4, 100, 4)
    assert sent[0] == {1: 400, 2: 400, 3: 400}
    assert sent[1] == {0: 400, 2: 0, 3: 0}


def test_hot_expert_counts_route_the_hot_share_to_one_rank() -> None:
    counts = hot_expert_counts(4, 100, hot_fraction=0.5)
    assert [sum(row) for row in counts] == [100] * 4
    assert counts[1] == [50 + 13, 13, 12, 12]
    assert uniform_counts(2, 3) == [[2, 1], [2, 1]]


def test_definition_rejects_an_unknown_collective_listing_the_known_ones() -> None:
    x = np.zeros(4, np.float32)
    with pytest.raises(InputError, match="unknown collective 'allsum'; known: allreduce"):
        expected_outputs("allsum", [x, x])
    with pytest.raises(InputError, match="unknown collective 'allsum'"):
        matches_definition("allsum", x, rank=0, n_ranks=2, input_of=lambda j: x)


def test_registry_rejects_unknown_names_listing_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown allreduce algorithm 'rong'; known: ring, "):
        get_algorithm("allreduce", "rong")
    with pytest.raises(InputError, match="unknown collective 'allsum'; known: allreduce"):
        get_algorithm("allsum", "ring")
    assert algorithm_names("alltoall") == ["pairwise", "builtin"]


@pytest.mark.parametrize("collective,name,params,fragment", [
    ("allreduce", "hierarchical", {"ranks_per_node": 3}, "ranks_per_node(=3) must divide"),
    ("allreduce", "hierarchical", {"mode": "ring"}, "mode(='ring') must be one of"),
    ("allreduce", "ps", {"n_servers": 5}, "n_servers(=5) must be in 1..4"),
    ("broadcast", "binomial", {"root": 4}, "root(=4) must be a rank in 0..3"),
    ("alltoall", "pairwise", {"counts": [[1, 2]]}, "counts must be a 4x4 matrix"),
    ("allreduce", "ring", {"root": 1}, "takes no parameter 'root'"),
])
def test_bad_parameters_raise_input_error(collective: str, name: str, params: dict[str, Any],
                                          fragment: str) -> None:
    with pytest.raises(InputError) as info:
        predicted_bytes_sent(collective, name, 4, 10, 4, **params)
    assert fragment in str(info.value)


def test_builtin_needs_the_torch_backend() -> None:
    with pytest.raises(InputError, match="needs the torch backend"):
        run_on_threads(mesh(1), lambda t: run_collective(t, "allreduce", "builtin",
                                                         np.zeros(3)))
    with pytest.raises(InputError, match="no byte prediction"):
        predicted_bytes_sent("allreduce", "builtin", 2, 10, 4)
