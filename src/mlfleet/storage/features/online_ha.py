"""A highly available Redis online store: a primary, an asynchronous replica, failover.

:func:`redis_pair` starts two real ``redis-server`` processes on loopback (free ports,
no persistence, files under a directory the caller owns): a primary and a replica
(``--replicaof``), and stops both on every path. :class:`FailoverStore` writes feature
rows through :class:`~mlfleet.storage.features.online_redis.RedisOnlineStore`; when the
primary stops answering it promotes the replica (``REPLICAOF NO ONE``) and carries on
there.

Replication is asynchronous: the primary acknowledges a write before the replica has
it, so a primary that dies loses the writes still in the replication stream. The model
(Redis replication docs, "Redis uses by default asynchronous replication"): expected
lost writes = write rate × replication lag, i.e. the writes the replica is behind by
at the instant of the crash (:func:`expected_lost_writes`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlfleet.checks import non_negative
from mlfleet.loopback import free_port
from mlfleet.storage.features.online_redis import RedisOnlineStore
from mlfleet.storage.features.online_store import FeatureBatch, OnlineStoreError

START_TIMEOUT_S = 10.0
PARTITION_PASSWORD = "partitioned"
"""Set on the primary to keep a cut-off replica from reconnecting (loopback test servers)."""
"""How long a node may take to answer PING (and a replica to finish its first sync)."""


def expected_lost_writes(*, write_rate_per_s: float, replication_lag_s: float) -> float:
    """Writes acknowledged by the primary but not yet on the replica: rate × lag."""
    return non_negative("write_rate_per_s", write_rate_per_s) \
        * non_negative("replication_lag_s", replication_lag_s)


@dataclass(frozen=True, kw_only=True)
class RedisNode:
    """A ``redis-server`` this process started."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` if the process is still ours and alive (checked in /proc)."""
        if self.proc.poll() is None and _comm(self.proc.pid).startswith("redis-server"):
            os.kill(self.proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; waits for the exit."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def start_node(binary: str, workdir: Path, *, replica_of: int | None = None) -> RedisNode:
    """A node on a free loopback port; OnlineStoreError if it does not come up."""
    import redis

    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(workdir),
            "--repl-diskless-sync-delay", "0"]  # the first sync at once, not after 5 s
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    node = RedisNode(proc=subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL), port=port)
    client = redis.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while time.monotonic() < deadline and node.proc.poll() is None:
            try:
                info = client.info("replication")
                if replica_of is None or info.get("master_link_status") == "up":
                    return node
            except redis.RedisError:
                pass
            time.sleep(0.02)
    finally:
        client.close()
    node.stop()
    raise OnlineStoreError(f"redis-server on port {port} did not come up "
                           f"{'as a synced replica ' if replica_of else ''}within {START_TIMEOUT_S} s")


@contextmanager
def redis_pair(binary: str, workdir: Path) -> Iterator[tuple[RedisNode, RedisNode]]:
    """(primary, replica), both stopped when the block ends, however it ends."""
    (workdir / "primary").mkdir(exist_ok=True)
    (workdir / "replica").mkdir(exist_ok=True)
    primary = start_node(binary, workdir / "primary")
    replica: RedisNode | None = None
    try:
        replica = start_node(binary, workdir / "replica", replica_of=primary.port)
        yield primary, replica
    finally:
        for node in (replica, primary):
            if node is not None:
                node.stop()


def promote(url: str) -> int:
    """``REPLICAOF NO ONE`` on the node at ``url``: it becomes a primary; its key count."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1.0)
    try:
        client.replicaof("NO", "ONE")
        return int(client.dbsize())
    finally:
        client.close()


def _stream_bytes(url: str) -> int:
    """Bytes the primary at ``url`` has put in its replication stream."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1.0)
    try:
        return int(client.info("replication")["master_repl_offset"])
    finally:
        client.close()


def replication_lag_bytes(primary_url: str, replica_url: str) -> int:
    """Primary's replication offset minus what the replica has processed (bytes; the
    replica is read first, so rows written in between count as behind)."""
    import redis

    r = redis.Redis.from_url(replica_url, socket_timeout=1.0)
    try:
        done = int(r.info("replication")["slave_repl_offset"])
    finally:
        r.close()
    return _stream_bytes(primary_url) - done


class FailoverStore:
    """Writes to the primary; on a connection error promotes the replica and retries there.

    ``acked_rows`` counts rows whose write returned; ``failover_at_s`` is when the
    first write failed and ``recovered_at_s`` when the first write on the promoted
    replica returned (``time.monotonic`` seconds).
    """

    def __init__(self, primary_url: str, replica_url: str) -> None:
        self.urls = [primary_url, replica_url]
        self.store = RedisOnlineStore(primary_url)
        self.acked_rows = 0
        self.failover_at_s: float | None = None
        self.recovered_at_s: float | None = None
        self.acked_at_failover = 0
        """Rows acknowledged by the old primary."""
        self.rows_at_promotion = 0
        """Keys the replica held when promoted (before any new write)."""

    @property
    def failed_over(self) -> bool:
        return self.failover_at_s is not None

    def write(self, view: str, batch: FeatureBatch) -> int:
        """Write ``batch``; the first connection error triggers the failover (once)."""
        import redis

        try:
            stored = self.store.write(view, batch)
        except redis.ConnectionError:
            if self.failed_over:
                raise
            self.failover_at_s = time.monotonic()
            self.acked_at_failover = self.acked_rows
            self.store.close()
            self.rows_at_promotion = promote(self.urls[1])
            self.store = RedisOnlineStore(self.urls[1])
            stored = self.store.write(view, batch)
            self.recovered_at_s = time.monotonic()
        self.acked_rows += len(batch)
        return stored

    def close(self) -> None:
        self.store.close()


@dataclass(frozen=True, kw_only=True)
class FailoverRun:
    """What one primary crash cost (rows of one feature view, one key per entity)."""

    write_rate_rows_per_s: float
    """Acknowledged rows per second, measured before the partition."""
    lag_s: float
    """Replication lag at the crash: time since the replica stopped receiving (0: none)."""
    rows_acked_in_lag: int
    """Rows the primary acknowledged between the partition and the crash."""
    lost_rows: int
    """Rows acknowledged by the old primary that the promoted replica lacks."""
    failover_s: float
    """From the SIGKILL to the first write acknowledged by the promoted replica."""
    behind_rows_at_kill: float
    """Rows the replica had not processed just before the kill (replication offsets over
    the bytes a row takes in the stream): the model's rate × lag, read off the servers."""


def _batch(start: int, rows: int) -> FeatureBatch:
    keys = [str(i) for i in range(start, start + rows)]
    return FeatureBatch(entity_keys=keys, event_ts_s=[1.0] * rows, created_ts_s=[1.0] * rows,
                        values={"x": [1.0] * rows})


def _partition(primary: RedisNode) -> None:
    """Cut the replica off: drop its link and make the primary refuse its reconnection
    (a password it does not have), while the writer's open connection keeps working."""
    import redis

    client = redis.Redis(port=primary.port, socket_timeout=1.0)
    try:
        client.config_set("requirepass", PARTITION_PASSWORD)
        client.client_kill_filter(_type="replica")
    finally:
        client.close()


def failover_run(binary: str, workdir: Path, *, partition_s: float = 0.0,
                 batch_rows: int = 200, warmup_s: float = 0.3) -> FailoverRun:
    """Write continuously to a primary with a replica, optionally partition the replica
    for ``partition_s``, SIGKILL the primary, let :class:`FailoverStore` promote the
    replica; count what was lost. Both servers are stopped on every path."""
    import threading

    with redis_pair(binary, workdir) as (primary, replica):
        store = FailoverStore(primary.url, replica.url)
        stop = threading.Event()
        errors: list[BaseException] = []

        def write_loop() -> None:
            start = 0
            try:
                while not stop.is_set():
                    store.write("v", _batch(start, batch_rows))
                    start += batch_rows
            except BaseException as exc:  # reported by the caller's thread
                errors.append(exc)

        writer = threading.Thread(target=write_loop, daemon=True)
        writer.start()
        try:
            time.sleep(warmup_s)
            acked, t0 = store.acked_rows, time.monotonic()
            time.sleep(warmup_s)
            rate = (store.acked_rows - acked) / (time.monotonic() - t0)
            bytes_per_row = _stream_bytes(primary.url) / max(store.acked_rows, 1)
            if partition_s > 0:
                _partition(primary)  # in effect once it returns: later rows never replicate
            acked_at_cut, cut_at = store.acked_rows, time.monotonic()
            if partition_s > 0:
                time.sleep(partition_s)
            head_url = primary.url.replace("//", f"//:{PARTITION_PASSWORD}@") \
                if partition_s > 0 else primary.url
            behind = replication_lag_bytes(head_url, replica.url) / bytes_per_row
            killed_at = time.monotonic()
            primary.kill()
            deadline = killed_at + START_TIMEOUT_S
            while store.recovered_at_s is None and writer.is_alive() \
                    and time.monotonic() < deadline:
                time.sleep(0.002)
        finally:
            stop.set()
            writer.join(timeout=START_TIMEOUT_S)
            store.close()
        if errors or store.recovered_at_s is None:
            raise OnlineStoreError(f"the failover did not complete: {errors[:1]!r}")
        return FailoverRun(write_rate_rows_per_s=rate,
                           lag_s=killed_at - cut_at if partition_s > 0 else 0.0,
                           rows_acked_in_lag=store.acked_at_failover - acked_at_cut
                           if partition_s > 0 else 0,
                           lost_rows=store.acked_at_failover - store.rows_at_promotion,
                           failover_s=store.recovered_at_s - killed_at,
                           behind_rows_at_kill=behind)
