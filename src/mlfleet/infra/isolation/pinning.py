"""CPU pinning measured on a real ``mlfleet serve`` while CPU hogs run beside it.

One server process (:func:`mlfleet.serving.server.process.server_process`), the real
open-loop load generator (``mlfleet loadgen``) in its own process, and hogs (each a
Python busy loop in its own process). Four cases, on the same server:

1. ``alone``: no hog, every CPU allowed;
2. ``hog, unpinned``: the hogs and the server free to run on every CPU;
3. ``hog, pinned``: the server on ``server_cpus``, the hogs on the other CPUs;
4. ``alone, pinned``: no hog, the server on ``server_cpus`` (what pinning itself costs).

The server is pinned by setting the affinity of every one of its threads
(``os.sched_setaffinity`` on each ``/proc/PID/task/TID``; threads made later inherit
it), the hogs from birth; both are read back from ``/proc/PID/status``
(``Cpus_allowed_list``), and each hog's CPU time from ``/proc/PID/stat``. The load
generator is left unpinned: it competes for the CPUs like any client on the host, and
its own send lag is reported. Every child is killed on the way out, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mlfleet.errors import InputError, RunError
from mlfleet.stop_signals import signals_held

HOG_CODE = "while True:\n    pass\n"
"""A hog: one Python busy loop, one CPU's worth of demand."""
ENTRY = "import sys; from mlfleet.cli import main; sys.exit(main())"


@dataclass(frozen=True, kw_only=True)
class PinningCase:
    """What runs beside the server, and where."""

    name: str
    hogs: int
    pinned: bool


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    """One case as measured at the client, and the mechanism read back from /proc."""

    name: str
    server_cpus: str
    """``Cpus_allowed_list`` of the server's threads during the case (all equal)."""
    hog_cpus: tuple[str, ...]
    hog_cpu_s: tuple[float, ...]
    """CPU time each hog got during the case."""
    completed: int
    p50_s: float
    p99_s: float
    throughput_per_s: float
    client_lag_p99_s: float


def cases(hogs: int) -> tuple[PinningCase, ...]:
    return (PinningCase(name="alone", hogs=0, pinned=False),
            PinningCase(name="hog, unpinned", hogs=hogs, pinned=False),
            PinningCase(name="hog, pinned", hogs=hogs, pinned=True),
            PinningCase(name="alone, pinned", hogs=0, pinned=True))


def parse_cpu_list(text: str) -> set[int]:
    """``'0-2,5'`` -> {0, 1, 2, 5} (the kernel's list format)."""
    cpus: set[int] = set()
    for part in filter(None, text.strip().split(",")):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def cpus_allowed(pid: int, tid: int | None = None) -> str:
    """``Cpus_allowed_list`` of a process (or one of its threads) from /proc."""
    path = f"/proc/{pid}/status" if tid is None else f"/proc/{pid}/task/{tid}/status"
    with open(path, encoding="ascii") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise RunError(f"{path} has no Cpus_allowed_list")


def threads(pid: int) -> list[int]:
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def pin_all_threads(pid: int, cpus: set[int]) -> None:
    """Set the affinity of every thread of ``pid`` (a thread that exits meanwhile is skipped)."""
    for tid in threads(pid):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(tid, cpus)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def split_cpus(server_cpus: int) -> tuple[set[int], set[int]]:
    """(the server's CPUs, the hogs' CPUs) out of those this process may use."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        raise InputError(f"pinning needs at least 2 CPUs; this process may use {allowed}")
    if not 1 <= server_cpus < len(allowed):
        raise InputError(f"--server-cpus(={server_cpus}) must be in [1, {len(allowed) - 1}]: "
                         f"{len(allowed)} CPUs are available and the hogs need one")
    return set(allowed[:server_cpus]), set(allowed[server_cpus:])


@contextlib.contextmanager
def hog_processes(count: int, cpus: set[int] | None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` busy-loop processes (pinned to ``cpus`` from birth if given); killed on exit."""
    def pin() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(subprocess.Popen([sys.executable, "-c", HOG_CODE], preexec_fn=pin,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        yield procs
    finally:
        with signals_held():
            for proc in procs:
                proc.kill()
            for proc in procs:
                proc.wait()


def run_loadgen(url: str, *, rate_per_s: float, duration_s: float, seed: int) -> dict[str, object]:
    """``mlfleet loadgen --json`` in its own process; its report (RunError if it failed)."""
    cmd = [sys.executable, "-c", ENTRY, "loadgen", "--url", url, "--rate", f"{rate_per_s:g}",
           "--duration", f"{duration_s:g}", "--seed", str(seed), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=duration_s + 120.0)
    finally:
        if proc.poll() is None:
            with signals_held():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
    if proc.returncode != 0:
        raise RunError(f"mlfleet loadgen exited with {proc.returncode}: {err.strip()[-500:]}")
    report: dict[str, object] = json.loads(out)
    return report


def server_pid(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/v1/info", timeout=10.0) as resp:
        return int(json.load(resp)["pid"])


def measure_case(case: PinningCase, *, pid: int, url: str, cpus: tuple[set[int], set[int]],
                 rate_per_s: float, duration_s: float, seed: int) -> CaseResult:
    """Pin (or free) the server, start the hogs, drive the load, read /proc back."""
    server_set, hog_set = cpus
    pin_all_threads(pid, server_set if case.pinned else server_set | hog_set)
    with hog_processes(case.hogs, hog_set if case.pinned else None) as hogs:
        start_cpu = [cpu_seconds(h.pid) for h in hogs]
        report = run_loadgen(url, rate_per_s=rate_per_s, duration_s=duration_s, seed=seed)
        masks = {cpus_allowed(pid, tid) for tid in threads(pid)}
        hog_cpus = tuple(cpus_allowed(h.pid) for h in hogs)
        hog_cpu_s = tuple(cpu_seconds(h.pid) - s for h, s in zip(hogs, start_cpu, strict=True))
    if len(masks) != 1:
        raise RunError(f"server threads have different CPU masks: {sorted(masks)}")
    e2e = report["e2e"]
    assert isinstance(e2e, dict)
    return CaseResult(name=case.name, server_cpus=masks.pop(), hog_cpus=hog_cpus,
                      hog_cpu_s=hog_cpu_s, completed=int(str(report["completed"])),
                      p50_s=_seconds(e2e.get("p50_s")), p99_s=_seconds(e2e.get("p99_s")),
                      throughput_per_s=_seconds(report.get("throughput_per_s")),
                      client_lag_p99_s=_seconds(report.get("client_lag_p99_s")))


def _seconds(value: object) -> float:
    """A number from the report; NaN where it is null (too few samples)."""
    return math.nan if value is None else float(str(value))


def run_pinning(*, rate_per_s: float, duration_s: float, hogs: int, server_cpus: int,
                seed: int, on_case: Callable[[str], None] | None = None) -> list[CaseResult]:
    """Start ``mlfleet serve`` and measure every case on it (see the module docstring)."""
    from mlfleet.serving.server.process import server_process

    cpus = split_cpus(server_cpus)
    results = []
    with server_process() as base_url:
        pid = server_pid(base_url)
        try:
            for case in cases(hogs):
                if on_case is not None:
                    on_case(case.name)
                results.append(measure_case(case, pid=pid, url=f"{base_url}/v1/rank",
                                            cpus=cpus, rate_per_s=rate_per_s,
                                            duration_s=duration_s, seed=seed))
        except KeyboardInterrupt:  # stop now: the server's graceful stop can take a second
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise
    return results
