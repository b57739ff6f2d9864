"""A per-run fork server: imports torch once, then forks every rank of every attempt.

Importing torch takes 1.5 s of CPU per process here, and 10 s or more when N ranks import
it at once on a loaded two-core host; a restart would mostly measure that. So, like
``multiprocessing``'s forkserver, one process started per run imports the training code
and forks a rank on request. The first start-up (``python``, ``import torch``) is paid
once and reported as such; a recovery pays fork, gloo rendezvous and checkpoint load.

Protocol on a ``SOCK_SEQPACKET`` socket pair (one message per packet):

* supervisor -> server: ``{"rank": r}`` with three file descriptors attached (the rank's
  stdin read end, stdout write end, stderr file); the server forks, the child becomes a
  session leader (its own process group, so it can be killed as a whole), takes the
  descriptors as 0, 1, 2 and runs :func:`mlfleet.reliability.train.worker.main`;
* server -> supervisor: ``{"spawned": r, "pid": p}``, and ``{"exited": p, "code": c}``
  (``-signal`` when killed) for every child it reaps.

When the supervisor's end closes, the server SIGKILLs its children and exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any

_MAX_MESSAGE = 4096


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """One packet, with ``fds`` attached when given."""
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.send(data)


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _run_child(sock: socket.socket, fds: list[int], wakeup: tuple[int, int]) -> None:
    """In the forked child: become the rank and never return."""
    code = 70
    try:
        sock.close()
        signal.set_wakeup_fd(-1)
        for fd in wakeup:
            os.close(fd)
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        from mlfleet.reliability.train.worker import main

        code = main()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        send(sock, {"exited": pid, "code": _exit_code(status)})


def warm_up() -> None:
    """Do once here what every rank would otherwise pay for: torch's lazy imports (the
    first optimizer construction imports torch._dynamo: 4 s on this host). One intra-op
    thread, so no thread pool exists when we fork."""
    import torch

    import mlfleet.reliability.train.worker  # noqa: F401 - the import every fork inherits

    torch.set_num_threads(1)
    layer = torch.nn.Linear(2, 2)
    optim = torch.optim.Adam(layer.parameters())
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=2)
    torch.nn.functional.cross_entropy(layer(torch.zeros(1, 2)), torch.zeros(1, dtype=torch.long)
                                      ).backward()  # type: ignore[no-untyped-call]
    optim.step()
    sched.step()


def _sigchld_wakeup() -> tuple[int, int]:
    """A pipe that becomes readable when a child exits (so its exit is reported at once)."""
    read_fd, write_fd = os.pipe()
    for end in (read_fd, write_fd):
        os.set_blocking(end, False)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    signal.set_wakeup_fd(write_fd)
    return read_fd, write_fd


def serve(fd: int) -> None:
    """The server loop on the inherited socket ``fd`` (see the module docstring)."""
    warm_up()
    sock = socket.socket(fileno=fd)
    children: set[int] = set()
    wakeup = _sigchld_wakeup()
    send(sock, {"ready": os.getpid()})
    try:
        while True:
            readable, _, _ = select.select([sock.fileno(), wakeup[0]], [], [], 0.5)
            if wakeup[0] in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup[0], 4096)
            _reap(sock, children)
            if sock.fileno() not in readable:
                continue
            data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 3)
            if not data:
                return
            request = json.loads(data)
            pid = os.fork()
            if pid == 0:
                _run_child(sock, fds, wakeup)
            for fd_ in fds:
                os.close(fd_)
            children.add(pid)
            send(sock, {"spawned": request["rank"], "pid": pid})
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        for pid in children:  # reaped here: an orphaned zombie may never be (PID 1 in a container)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when we stop
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        serve(int(sys.argv[1]))
