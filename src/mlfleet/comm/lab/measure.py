"""Run a collective on a lab in silent windows: time each call and account every link's bytes.

One launch (:func:`mlfleet.comm.launch.launch`, rank i in host i's namespace)
runs :func:`windowed_rank` on every rank. Each rank first runs the collective
once untimed (it opens TCP windows and settles ACKs) and passes a barrier. Then,
for every repetition, the parent and the ranks step through a window::

    ranks: "ready" ──▶ parent: read tc counters ("before"), answer "go" to every rank
    ranks: run the collective ``iters`` times back to back, "done" ──▶ parent (all done):
           read tc counters ("after"),
                                                 answer "ok" (a rank may now close its sockets)

Control never crosses a shaped link: it runs over a Unix socket in a local
directory, which every namespace can reach through the shared filesystem. When every rank
is done, every byte the collective sent has been received, so it has passed both
shapers; only pure ACKs (no payload, 66 bytes) may trail into the next window,
and they cancel out of ``bytes − packets × 66``. So each window's payload per
link direction is exact and is compared with the algorithm's prediction:
host i's uplink carries what rank i sends, its downlink what rank i receives.

A window's time is ``max(end) − min(start)`` over ranks (``time.monotonic`` is one
clock for every process on the machine), and a call's time is that over ``iters``,
as nccl-tests times a loop of back-to-back calls: the ranks leave the "go" a few
milliseconds apart on a busy 2-CPU host (``Window.start_skew_s``), and one call of
a few milliseconds would count that skew in full.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlfleet.comm.lab import counters as counters_mod
from mlfleet.comm.lab.counters import HostCounters
from mlfleet.comm.lab.lab import hosts_of
from mlfleet.comm.lab.netns import Runner, run_command
from mlfleet.comm.lab.shaping import TCP_FRAME_HEADER_BYTES
from mlfleet.comm.lab.state import LabState
from mlfleet.errors import InputError, RunError

ByteCounts = list[dict[int, int]]
_CONTROL_TIMEOUT_S = 300.0


@dataclass(frozen=True, kw_only=True)
class LinkAccount:
    """One link direction in one window: what tc saw and what the algorithm predicts."""

    host: int
    """Host index."""
    direction: str
    """``up`` (host sends) or ``down`` (host receives)."""
    tc_bytes: int
    """Frame bytes tc dequeued in the window."""
    packets: int
    """Frames (GSO segments counted singly), data and pure ACKs."""
    drops: int
    """Frames the qdisc dropped."""
    payload_bytes: int
    """``tc_bytes − packets × 66``: TCP payload that crossed the link."""
    predicted_payload_bytes: int | None
    """Payload the algorithm's ``predicted_bytes_sent`` puts on this link (None: unknown)."""

    @property
    def exact(self) -> bool:
        """Whether the measured payload equals the prediction byte for byte."""
        return self.payload_bytes == self.predicted_payload_bytes


@dataclass(frozen=True, kw_only=True)
class Window:
    """One measured call of the collective."""

    rep: int
    """Repetition number, from 0."""
    elapsed_s: float
    """``max(end) − min(start)`` over ranks, for all ``iters`` calls."""
    iters: int = 1
    """Back-to-back calls in the window."""
    links: tuple[LinkAccount, ...]
    """Every host's uplink and downlink accounting."""
    tcp_retrans_segs: int
    """TCP retransmissions on all hosts during the window (should be 0)."""
    start_skew_s: float = 0.0
    """``max(start) − min(start)`` over ranks: how unevenly the ranks were released."""

    @property
    def call_s(self) -> float:
        """Seconds per call: the window's time over its calls."""
        return self.elapsed_s / self.iters

    @property
    def exact(self) -> bool:
        """Every link direction carried exactly the predicted payload."""
        return all(link.exact for link in self.links)

    @property
    def drops(self) -> int:
        """Frames dropped by any shaper in the window."""
        return sum(link.drops for link in self.links)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """Every window of one size, with the median time."""

    size_bytes: int
    """Bytes of each rank's buffer."""
    windows: tuple[Window, ...]
    """One per repetition."""

    @property
    def median_s(self) -> float:
        """Median over the windows of the time per call."""
        return statistics.median(w.call_s for w in self.windows)


def link_payloads(predicted: ByteCounts) -> tuple[list[int], list[int]]:
    """Per host, predicted payload on its uplink (sent) and its downlink (received)."""
    n = len(predicted)
    up = [sum(predicted[r].values()) for r in range(n)]
    down = [sum(predicted[s].get(r, 0) for s in range(n) if s != r) for r in range(n)]
    return up, down


def account(delta: Sequence[HostCounters], predicted: ByteCounts | None) -> list[LinkAccount]:
    """Compare a window's counter differences with a byte prediction, per link direction."""
    up, down = link_payloads(predicted) if predicted is not None else (None, None)
    rows = []
    for c in delta:
        for direction, q, want in (("up", c.uplink, up), ("down", c.downlink, down)):
            rows.append(LinkAccount(
                host=c.index, direction=direction, tc_bytes=q.bytes, packets=q.packets,
                drops=q.drops, payload_bytes=q.payload_bytes(TCP_FRAME_HEADER_BYTES),
                predicted_payload_bytes=None if want is None else want[c.index]))
    return rows


def windowed_rank(t: Any, *, collective: str, algorithm: str, numel: int, dtype: str,
                  reps: int, control_path: str, params: dict[str, Any] | None = None,
                  iters: int = 1) -> dict[str, Any]:
    """The rank side of a measurement (runs under the launcher; see the module docstring).

    Returns ``{"starts": [...], "ends": [...], "ok": bool}``: monotonic times per
    repetition and whether the last result equals the definition (sum of ranks).
    """
    from mlfleet.comm.algorithms.registry import run_collective

    x = np.full(numel, t.rank + 1, dtype=np.dtype(dtype))
    params = params or {}
    run_collective(t, collective, algorithm, x, **params)  # warm-up: TCP windows open, ACKs settle
    t.barrier()
    starts, ends = [], []
    out = x
    with _Control.connect(control_path, t.rank) as control:
        for _ in range(reps):
            control.say("ready")
            control.expect("go")
            starts.append(time.monotonic())
            for _ in range(iters):
                out = run_collective(t, collective, algorithm, x, **params)
            ends.append(time.monotonic())
            control.say("done")
            control.expect("ok")  # the counters are read: this rank may close its sockets
    want = t.world_size * (t.world_size + 1) // 2
    ok = collective != "allreduce" or bool(np.all(out == want))
    return {"starts": starts, "ends": ends, "ok": ok}


class _Control:
    """One line-oriented control connection over a Unix socket (never a shaped link)."""

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self.file = sock.makefile("rwb")

    @classmethod
    def connect(cls, path: str, rank: int) -> _Control:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_CONTROL_TIMEOUT_S)
        sock.connect(path)
        control = cls(sock, "the measuring parent")
        control.say(f"rank {rank}")
        return control

    def say(self, line: str) -> None:
        self.file.write(line.encode() + b"\n")
        self.file.flush()

    def expect(self, word: str) -> str:
        line = self.file.readline().decode().strip()
        if not line.startswith(word):
            raise RunError(f"measurement control: expected {word!r} from {self.peer}, "
                           f"got {line!r}")
        return line

    def __enter__(self) -> _Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()
        self.sock.close()


class _Conductor(threading.Thread):
    """The parent side: counters before and after each window, "go" to every rank."""

    def __init__(self, state: LabState, path: str, reps: int, runner: Runner) -> None:
        super().__init__(daemon=True, name="lab-conductor")
        self.state, self.reps, self.runner = state, reps, runner
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(len(state.hosts))
        self.listener.settimeout(_CONTROL_TIMEOUT_S)
        self.deltas: list[list[HostCounters]] = []
        self.ranks: dict[int, _Control] = {}
        self.error: BaseException | None = None

    def stop(self) -> None:
        """Unblock the thread (a rank failed): shut every socket down."""
        for sock in [self.listener, *(c.sock for c in self.ranks.values())]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        ranks = self.ranks
        try:
            while len(ranks) < len(self.state.hosts):
                sock, _ = self.listener.accept()
                sock.settimeout(_CONTROL_TIMEOUT_S)
                control = _Control(sock, "a rank")
                ranks[int(control.expect("rank").split()[1])] = control
            for _ in range(self.reps):
                self._window(ranks)
        except BaseException as exc:  # noqa: BLE001 - reported by measure()
            self.error = exc
        finally:
            for control in ranks.values():
                control.__exit__()
            self.listener.close()

    def _window(self, ranks: dict[int, _Control]) -> None:
        for control in ranks.values():
            control.expect("ready")
        before = counters_mod.read_counters(self.state, self.runner)
        for control in ranks.values():
            control.say("go")
        for control in ranks.values():
            control.expect("done")
        after = counters_mod.read_counters(self.state, self.runner)
        self.deltas.append(counters_mod.diff_counters(after, before))
        for control in ranks.values():
            control.say("ok")


def measure(
    state: LabState,
    *,
    size_bytes: int,
    collective: str = "allreduce",
    algorithm: str = "ring",
    backend: str = "socket",
    dtype: str = "float32",
    reps: int = 3,
    timeout_s: float = 60.0,
    params: dict[str, Any] | None = None,
    iters: int = 1,
    runner: Runner = run_command,
) -> Measurement:
    """Run ``reps`` measured windows of one collective on every host of ``state``.

    ``params`` go to the algorithm (e.g. ``{"blocks": 1}`` for an unpipelined ring);
    ``iters`` calls run back to back in each window (bytes are predicted for all).

    Raises RunError if a rank fails or a result is wrong.
    """
    from mlfleet.comm.algorithms.registry import get_algorithm, predicted_bytes_sent
    from mlfleet.comm.launch import HostSpec, launch

    itemsize = np.dtype(dtype).itemsize
    numel = size_bytes // itemsize
    n = len(state.hosts)
    if not (isinstance(iters, int) and iters >= 1):
        raise InputError(f"iters(={iters!r}) must be a whole number >= 1")
    params = dict(params or {})
    predicted = (predicted_bytes_sent(collective, algorithm, n, numel, itemsize, **params)
                 if get_algorithm(collective, algorithm).predicted_bytes_sent else None)
    if predicted is not None:
        predicted = [{peer: iters * b for peer, b in row.items()} for row in predicted]
    hosts = [HostSpec(ip=h.ip, exec_prefix=h.exec_prefix, env={"GLOO_SOCKET_IFNAME": h.ifname})
             for h in hosts_of(state)]
    with tempfile.TemporaryDirectory(prefix="mlfleet-lab-") as tmp:
        path = str(Path(tmp) / "control.sock")
        conductor = _Conductor(state, path, reps, runner)
        conductor.start()
        try:
            results = launch(n, windowed_rank, backend=backend, hosts=hosts,
                             timeout_s=timeout_s,
                             kwargs={"collective": collective, "algorithm": algorithm,
                                     "numel": numel, "dtype": dtype, "reps": reps,
                                     "control_path": path, "params": params,
                                     "iters": iters})
        except BaseException:
            conductor.stop()  # unblock it: the ranks are gone
            raise
        finally:
            conductor.join()
    if conductor.error is not None:
        raise RunError(f"lab measurement failed: {conductor.error}") from conductor.error
    if not all(r["ok"] for r in results):
        raise RunError(f"{collective}/{algorithm} on lab {state.name} returned a wrong result")
    windows = []
    for rep in range(reps):
        elapsed = max(r["ends"][rep] for r in results) - min(r["starts"][rep] for r in results)
        delta = conductor.deltas[rep]
        skew = max(r["starts"][rep] for r in results) - min(r["starts"][rep] for r in results)
        windows.append(Window(rep=rep, elapsed_s=elapsed, iters=iters,
                              links=tuple(account(delta, predicted)),
                              tcp_retrans_segs=sum(c.tcp_retrans_segs for c in delta),
                              start_skew_s=skew))
    return Measurement(size_bytes=numel * itemsize, windows=tuple(windows))
