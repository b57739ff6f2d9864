"""The algorithms across real OS processes, on both backends, against torch.distributed.

One launch per (backend, rank count) runs every case (all algorithms, awkward
sizes, dtypes, roots, AlltoAll counts); the parent checks each output bit for
bit against the definition and against gloo's built-in collective, and each
rank's payload bytes against ``predicted_bytes_sent``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlfleet.comm.algorithms import ALGORITHMS, predicted_bytes_sent
from mlfleet.comm.algorithms.alltoall import hot_expert_counts
from mlfleet.comm.algorithms.conformance import Case
from mlfleet.comm.algorithms.definition import expected_outputs, same_bits
from mlfleet.comm.launch import launch

OURS = sorted(key for key, a in ALGORITHMS.items() if a.name != "builtin")
SIZES = (0, 1, 3, 5, 64, 1000, 4099)
JOB = "mlfleet.comm.algorithms.conformance:run_cases"
BY_COUNT = "mlfleet.comm.algorithms.conformance:run_cases_by_rank_count"
Results = list[list[tuple[np.ndarray, dict[int, int]]]]


def variants(collective: str, name: str, n: int) -> list[dict[str, Any]]:
    if name == "hierarchical":
        return [{"ranks_per_node": g, "mode": m} for g in range(1, n + 1) if n % g == 0
                for m in ("shard", "leader")]
    if name == "ps":
        return [{"n_servers": k} for k in sorted({1, n})]
    if collective in ("broadcast", "reduce"):
        return [{"root": r} for r in sorted({0, n - 1})]
    if name == "ring":  # default, unpipelined, and pipelined finer than the chunk allows
        return [{}, {"blocks": 1}, {"blocks": 3}, {"blocks": 64}]
    if collective == "alltoall":
        rng = np.random.default_rng(n)
        return [{}, {"counts": hot_expert_counts(n, 40, hot_fraction=0.75)},
                {"counts": rng.integers(0, 9, size=(n, n)).tolist()}]
    return [{}]


def our_cases(n: int) -> list[Case]:
    cases = [Case(collective=c, algorithm=a, numel=numel, seed=numel, params=params)
             for c, a in OURS for params in variants(c, a, n) for numel in SIZES]
    cases += [Case(collective="allreduce", algorithm=a, numel=777, dtype=dtype, seed=7)
              for a in ("ring", "rhd") for dtype in ("float64", "int64", "int32")]
    return cases


def builtin_twin(case: Case) -> Case:
    params = {k: v for k, v in case.params.items() if k in ("root", "counts")}
    return Case(collective=case.collective, algorithm="builtin", numel=case.numel,
                dtype=case.dtype, seed=case.seed, params=params)


def run(backend: str, n: int, cases: list[Case]) -> Results:
    return launch(n, JOB, args=(cases,), backend=backend, timeout_s=60.0)


def check_against_definition(cases: list[Case], results: Results, n: int) -> None:
    for i, case in enumerate(cases):
        inputs = [case.make_input(r) for r in range(n)]
        expected = expected_outputs(case.collective, inputs, root=case.params.get("root", 0),
                                    counts=case.params.get("counts"))
        for r in range(n):
            out, _ = results[r][i]
            assert same_bits(out, expected[r]), (case, r)
        if case.algorithm != "builtin":
            predicted = predicted_bytes_sent(case.collective, case.algorithm, n, case.numel,
                                             np.dtype(case.dtype).itemsize, **case.params)
            assert predicted == [results[r][i][1] for r in range(n)], case


@pytest.mark.parametrize("n", range(2, 9))
def test_socket_backend_equals_definition_and_predicted_bytes(n: int) -> None:
    cases = our_cases(n)
    check_against_definition(cases, run("socket", n, cases), n)


def test_torch_backend_equals_definition_gloo_builtins_and_socket() -> None:
    """One 8-process launch per backend covers 2..8 ranks (a torch sub-group per count)."""
    pytest.importorskip("torch.distributed")
    counts = range(2, 9)
    ours = {n: our_cases(n) for n in counts}
    both = {n: ours[n] + [builtin_twin(c) for c in ours[n]] for n in counts}
    torch_runs = launch(8, BY_COUNT, args=(both,), backend="torch", timeout_s=60.0)
    socket_runs = launch(8, BY_COUNT, args=(ours,), backend="socket", timeout_s=60.0)
    for n in counts:
        torch_results = [torch_runs[r][n] for r in range(n)]
        socket_results = [socket_runs[r][n] for r in range(n)]
        check_against_definition(both[n], torch_results, n)
        check_against_definition(ours[n], socket_results, n)
        for i, case in enumerate(ours[n]):
            for r in range(n):
                gloo = torch_results[r][len(ours[n]) + i][0]
                assert same_bits(torch_results[r][i][0], gloo), (case, n, r)
                assert same_bits(socket_results[r][i][0], gloo), (case, n, r)
