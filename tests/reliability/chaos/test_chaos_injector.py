"""The injector on real processes: signals at their times, a slow duty cycle, and
every paused process resumed when the run ends (also when it is cancelled)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlfleet.reliability.chaos.faults import FaultStep
from mlfleet.reliability.chaos.injector import Injector


@dataclass
class _Proc:
    """A real child process standing in for a replica (signals and restarts are real)."""

    proc: subprocess.Popen[bytes]
    signals: list[int] = field(default_factory=list)
    restarts: int = 0
    exited_at_restart: list[bool] = field(default_factory=list)

    def kill(self, signum: int = signal.SIGKILL) -> None:
        self.signals.append(signum)
        if self.proc.poll() is None:
            self.proc.send_signal(signum)

    def restart(self) -> None:
        self.restarts += 1
        self.exited_at_restart.append(self.proc.poll() is not None)
        self.proc.wait()
        self.proc = _spawn()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def state(self) -> str:
        return Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _spawn() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


@pytest.fixture
def procs() -> Iterator[list[_Proc]]:
    made = [_Proc(_spawn()), _Proc(_spawn())]
    yield made
    for p in made:
        p.proc.kill()
        p.proc.wait()


def test_steps_apply_and_everything_resumes(procs: list[_Proc]) -> None:
    steps = [FaultStep(replica=0, action="kill", at_s=0.0),
             FaultStep(replica=1, action="stop", at_s=0.0),
             FaultStep(replica=0, action="restart", at_s=0.1),
             FaultStep(replica=1, action="slow", at_s=0.2)]  # left open: undone at the end
    injector = Injector(replicas=procs, steps=steps, slow_factor=4.0)

    async def main() -> None:
        await injector.run(time.monotonic())
    asyncio.run(main())
    assert procs[0].restarts == 1 and procs[0].proc.poll() is None
    assert procs[1].signals[0] == signal.SIGSTOP and procs[1].signals[-1] == signal.SIGCONT
    assert procs[1].state() != "T"  # not left stopped
    assert [a.step for a in injector.applied] == steps


def test_drain_sends_sigterm_and_the_restart_waits_for_the_exit(procs: list[_Proc]) -> None:
    # A child that takes 0.3 s to exit on SIGTERM, like a draining server.
    procs[0].proc.kill()
    procs[0].proc.wait()
    procs[0].proc = subprocess.Popen([sys.executable, "-c", (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.3), sys.exit(0)))\n"
        "print('up', flush=True)\n"
        "time.sleep(60)")], stdout=subprocess.PIPE)
    assert procs[0].proc.stdout is not None and procs[0].proc.stdout.readline() == b"up\n"
    drained = procs[0].proc
    steps = [FaultStep(replica=0, action="drain", at_s=0.0),
             FaultStep(replica=0, action="restart", at_s=0.0)]
    injector = Injector(replicas=procs, steps=steps)
    asyncio.run(injector.run(time.monotonic()))
    assert procs[0].signals == [signal.SIGTERM]  # no second signal cut the drain short
    assert drained.returncode == 0 and procs[0].exited_at_restart == [True]
    assert procs[0].proc.poll() is None


def test_cancelled_run_resumes_a_paused_process(procs: list[_Proc]) -> None:
    steps = [FaultStep(replica=1, action="stop", at_s=0.0),
             FaultStep(replica=1, action="cont", at_s=30.0)]
    injector = Injector(replicas=procs, steps=steps)

    async def main() -> None:
        task = asyncio.create_task(injector.run(time.monotonic()))
        await asyncio.sleep(0.2)
        assert procs[1].state() == "T"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    asyncio.run(main())
    assert procs[1].state() != "T"
