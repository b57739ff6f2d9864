"""The launcher: real processes, results by rank, and every failure fast and total (no orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlfleet.comm.algorithms.ring import allreduce_ring
from mlfleet.comm.launch import HostSpec, function_ref, launch, resolve_hosts
from mlfleet.comm.progress import report_progress
from mlfleet.comm.transport.base import Transport
from mlfleet.errors import InputError, RunError

HANG_GUARD_S = 20.0  # catches hangs only; not a performance claim


# --- launch functions (module level: each rank process imports this module) ----------

def ring_sum(t: Transport, scale: int) -> tuple[int, list[float], dict[int, int]]:
    out = allreduce_ring(t, np.full(6, (t.rank + 1) * scale, np.float32))
    return t.rank, out.tolist(), t.bytes_sent()


def crash_mid_collective(t: Transport, how: str) -> None:
    if t.rank == 2:
        time.sleep(0.2)
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise ValueError("boom on purpose")
    allreduce_ring(t, np.zeros(1 << 20, np.float32))


def stall(t: Transport, pid_dir: str) -> None:
    Path(pid_dir, f"{t.rank}.pid").write_text(str(os.getpid()))
    if t.rank == 1:
        time.sleep(3600)
    allreduce_ring(t, np.zeros(10, np.float32))


def environment(t: Transport, name: str) -> str | None:
    return os.environ.get(name)


def progress(t: Transport) -> int:
    if t.rank == 0:
        for i in range(3):
            report_progress(done=i + 1)
    print("stray output must not break the protocol")
    return t.rank


# --- tests ---------------------------------------------------------------------------

def test_results_come_back_in_rank_order() -> None:
    results = launch(4, ring_sum, args=(10,), timeout_s=30.0)
    assert [r[0] for r in results] == [0, 1, 2, 3]
    assert all(r[1] == [100.0] * 6 for r in results)
    # 6 elements in 4 chunks [2,2,1,1]: rank 0 sends 2·6 - 2 - 2 = 8 elements to rank 1
    assert results[0][2] == {1: 32, 2: 0, 3: 0}


def test_a_string_reference_works_too() -> None:
    results = launch(2, "test_launch:ring_sum", args=(1,), timeout_s=30.0)
    assert results[1][1] == [3.0] * 6


@pytest.mark.parametrize("how,fragment", [("raise", "ValueError: boom on purpose"),
                                          ("kill", "exited with status -9")])
def test_a_failing_rank_fails_the_launch_naming_it(how: str, fragment: str) -> None:
    start = time.monotonic()
    with pytest.raises(RunError, match="rank 2 failed") as info:
        launch(4, crash_mid_collective, args=(how,), timeout_s=30.0)
    assert fragment in str(info.value)
    assert time.monotonic() - start < HANG_GUARD_S  # far below the 30 s transport timeout


def test_a_stalled_rank_times_out_and_every_rank_is_killed(tmp_path: Path) -> None:
    start = time.monotonic()
    # rank 2 waits on rank 1 too and may not have timed out yet when the launch reports
    stalled = r"without an error \(stalled\?\): \[(1|1, 2)\]"
    with pytest.raises(RunError, match=r"timed out after 1s .*" + stalled):
        launch(3, stall, args=(str(tmp_path),), timeout_s=1.0)
    assert time.monotonic() - start < HANG_GUARD_S
    for pid_file in tmp_path.glob("*.pid"):
        assert not _alive(int(pid_file.read_text())), pid_file.name


def test_wall_timeout_bounds_the_whole_run(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="did not finish in time"):
        launch(2, stall, args=(str(tmp_path),), timeout_s=30.0, wall_timeout_s=1.0)


@pytest.mark.slow
def test_ranks_exit_when_the_launching_process_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from mlfleet.comm.launch import launch
        launch(3, "test_launch:stall", args=({str(tmp_path)!r},), timeout_s=3600.0)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + HANG_GUARD_S
    while len(list(tmp_path.glob("*.pid"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    parent.kill()
    parent.wait()
    pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
    assert len(pids) == 3
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def test_host_prefix_and_environment_reach_the_rank() -> None:
    hosts = [HostSpec(exec_prefix=["env", "MLFLEET_PREFIX_SEEN=yes"], env={"MLFLEET_X": str(r)})
             for r in range(2)]
    assert launch(2, environment, args=("MLFLEET_PREFIX_SEEN",), hosts=hosts) == ["yes", "yes"]
    assert launch(2, environment, args=("MLFLEET_X",), hosts=hosts) == ["0", "1"]


def test_an_exec_prefix_that_does_not_exist_is_a_run_error() -> None:
    with pytest.raises(RunError, match="cannot start rank 0"):
        launch(2, ring_sum, args=(1,), hosts=[HostSpec(exec_prefix=["/no/such/prefix"])] * 2)


def test_progress_reaches_the_callback_and_prints_do_not_break_the_protocol() -> None:
    seen: list[tuple[int, dict[str, Any]]] = []
    assert launch(2, progress, on_progress=lambda rank, p: seen.append((rank, p))) == [0, 1]
    assert seen == [(0, {"done": 1}), (0, {"done": 2}), (0, {"done": 3})]


@pytest.mark.parametrize("kwargs,fragment", [
    ({"world_size": 0}, "world_size(=0) must be an integer >= 1"),
    ({"backend": "mpi"}, "backend(='mpi') must be one of socket, torch"),
    ({"backend": "torch", "latency_s": 0.1}, "0 unless backend is 'socket'"),
    ({"hosts": [HostSpec()]}, "1 hosts given for 2 ranks"),
    ({"timeout_s": 0}, "timeout_s(=0) must be > 0"),
])
def test_bad_arguments_raise_input_error(kwargs: dict[str, Any], fragment: str) -> None:
    options: dict[str, Any] = {"world_size": 2, **kwargs}
    with pytest.raises(InputError) as info:
        launch(options.pop("world_size"), ring_sum, args=(1,), **options)
    assert fragment in str(info.value)


def test_only_module_level_functions_can_be_launched() -> None:
    def local(t: Transport) -> None: ...

    with pytest.raises(InputError, match="not a module-level function"):
        function_ref(local)
    with pytest.raises(InputError, match="must look like 'package.module:function'"):
        function_ref("no_colon")


def test_resolve_hosts_names_the_missing_lab() -> None:
    with pytest.raises(InputError, match="no-such-lab"):
        resolve_hosts("no-such-lab")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead but still listed; its state letter says so
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
def test_a_killed_rank_fails_a_torch_launch_too() -> None:
    pytest.importorskip("torch.distributed")
    with pytest.raises(RunError, match="rank 2 failed: exited with status -9"):
        launch(3, crash_mid_collective, args=("kill",), backend="torch", timeout_s=30.0)
