"""Online-store high availability on real ``redis-server`` processes.

A primary and a replica (``--replicaof``) on loopback; a writer streams feature rows
through the Redis online store; the primary is SIGKILLed; the client promotes the
replica (``REPLICAOF NO ONE``) and carries on. Measured: the failover time and the
acknowledged rows the promoted replica lacks, against rate × replication lag.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mlfleet.storage.features.online_ha import (
    expected_lost_writes,
    failover_run,
    redis_pair,
    start_node,
)


def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (scripts/test.sh installs it)")
        pytest.skip("redis-server is not installed")
    return binary


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "redis" in Path(f"/proc/{pid}/comm").read_text()


@pytest.mark.slow
@pytest.mark.serial
def test_lost_writes_are_those_acknowledged_during_the_replication_lag(tmp_path: Path) -> None:
    """The replica cut off for 0.2 s, then the primary killed: every row acknowledged
    after the cut is lost (at least rate × lag), and the lost rows equal the rows the
    replica was behind at the kill (by the replication offsets) to within 2 batches + 5 %
    (observed: lost = rows acked after the cut exactly; offsets within 1.7 %)."""
    run = failover_run(redis_binary(), tmp_path, partition_s=0.2, batch_rows=200)
    window_rate = run.rows_acked_in_lag / run.lag_s
    in_lag = expected_lost_writes(write_rate_per_s=window_rate, replication_lag_s=run.lag_s)
    print(run)
    assert run.lost_rows >= round(in_lag)  # in_lag is rows_acked_in_lag, as a float
    assert abs(run.lost_rows - run.behind_rows_at_kill) <= 2 * 200 + 0.05 * run.lost_rows
    assert 0 < run.failover_s < 10.0  # the writer is back on the promoted replica


@pytest.mark.slow
def test_a_plain_crash_loses_at_most_what_the_replica_was_behind(tmp_path: Path) -> None:
    """No partition: at most the rows the replica was behind just before the SIGKILL are
    lost, to within 2 batches + 5 % (observed on this loaded 2-core machine: 0 to 55 800
    rows lost, equal to the offsets' figure to 1 row when the replica stayed stalled; 0
    lost when it caught up from its socket buffer between the sample and the kill)."""
    run = failover_run(redis_binary(), tmp_path, partition_s=0.0, batch_rows=200)
    print(run)
    assert run.lost_rows >= 0
    assert run.lost_rows <= run.behind_rows_at_kill + 2 * 200 + 0.05 * run.lost_rows


def test_pair_stops_both_servers_on_error(tmp_path: Path) -> None:
    pids = []
    binary = redis_binary()
    with pytest.raises(RuntimeError, match="boom"), redis_pair(binary, tmp_path) as pair:
        pids = [node.proc.pid for node in pair]
        raise RuntimeError("boom")
    assert pids and not any(_alive(pid) for pid in pids)


def test_a_node_that_cannot_start_raises_and_leaves_nothing(tmp_path: Path) -> None:
    from mlfleet.storage.features.online_store import OnlineStoreError

    with pytest.raises(OnlineStoreError, match="did not come up"):
        start_node(redis_binary(), tmp_path / "missing-dir")
