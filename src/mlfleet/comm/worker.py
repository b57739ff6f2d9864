"""The process entry point of one rank: ``python -m mlfleet.comm.worker``.

Two ways to run it:

* **Under the launcher** (no arguments): the protocol with
  :func:`mlfleet.comm.launch.launch` is JSON lines over stdin/stdout. The parent
  sends a job header; the rank opens its listener (socket backend) or, as rank 0,
  its ``TCPStore`` (torch backend) and answers ``{"event": "listening", "address":
  [ip, port]}``; the parent sends every rank's address; the rank builds its
  transport, runs ``fn(transport, *args, **kwargs)``, pickles the result to the
  given path and answers ``{"event": "done"}`` (or ``{"event": "error", ...}``).
  The original stdout is kept for the protocol; ``print`` goes to stderr. When
  stdin reaches EOF (the parent died) the rank exits at once.

* **Standalone**, one process per rank started by someone else, e.g. torchrun::

      torchrun --standalone --nproc-per-node 4 -m mlfleet.comm.worker allreduce --algo ring \\
          --sizes 4K:16M --backend torch

  (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` come from the
  environment), or the socket backend on fixed ports (rank ``r`` listens on
  ``hosts[r]:base_port + r``)::

      RANK=0 WORLD_SIZE=2 python -m mlfleet.comm.worker allreduce --backend socket \\
          --hosts 10.0.0.1,10.0.0.2 --base-port 29600

  Every rank measures; rank 0 prints the same table as ``mlfleet run collective``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from mlfleet.comm.progress import attach, emit
from mlfleet.comm.transport.base import PeerLost, Transport
from mlfleet.errors import MlfleetError, one_line


def resolve_function(ref: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` (or ``"/path/file.py:function"``)."""
    module_name, _, qualname = ref.partition(":")
    if module_name.endswith(".py"):
        spec = importlib.util.spec_from_file_location("_mlfleet_launched", module_name)
        assert spec is not None and spec.loader is not None, module_name
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part)
    assert callable(target), ref
    fn: Callable[..., Any] = target
    return fn


def _child_main() -> int:
    """Run one rank under the launcher (see the module docstring)."""
    attach(os.fdopen(os.dup(1), "w"))
    os.dup2(2, 1)  # stray prints must not corrupt the protocol
    header = json.loads(sys.stdin.readline())
    try:
        fn, args, kwargs = _load_job(header)
        connect = _prepare(header)
        addresses = json.loads(sys.stdin.readline())["addresses"]
        threading.Thread(target=_exit_on_eof, daemon=True).start()
        transport = connect(addresses)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent
        return _report_error(exc)
    try:
        result = fn(transport, *args, **kwargs)
        transport.barrier()  # no rank tears down while a peer may still be setting up
        with open(header["result_path"] + ".tmp", "wb") as f:
            pickle.dump(result, f)
        os.replace(header["result_path"] + ".tmp", header["result_path"])
    except BaseException as exc:  # noqa: BLE001
        return _report_error(exc)  # before close(): peers must not report us first
    finally:
        transport.close()
    emit({"event": "done"})
    return 0


def _report_error(exc: BaseException) -> int:
    traceback.print_exc()
    text = str(exc) if isinstance(exc, MlfleetError) else f"{type(exc).__name__}: {exc}"
    emit({"event": "error", "peer_lost": isinstance(exc, PeerLost),
           "message": one_line(text) or type(exc).__name__})
    return 1


def _load_job(header: dict[str, Any]) -> tuple[Callable[..., Any], tuple[Any, ...],
                                               dict[str, Any]]:
    for entry in reversed(header.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    fn = resolve_function(header["fn"])
    with open(header["args_path"], "rb") as f:
        args, kwargs = pickle.load(f)
    return fn, args, kwargs


def _prepare(header: dict[str, Any]) -> Callable[[list[Any]], Transport]:
    """Open this rank's rendezvous endpoint, announce it, return how to connect."""
    rank, world_size, ip = header["rank"], header["world_size"], header["ip"]
    timeout_s = float(header["timeout_s"])
    if header["backend"] == "socket":
        from mlfleet.comm.transport.socket import SocketTransport, bind_listener

        listener = bind_listener(ip)
        emit({"event": "listening", "address": list(listener.getsockname()[:2])})
        return lambda addresses: SocketTransport.connect(
            rank=rank, addresses=[tuple(a) for a in addresses], listener=listener,
            timeout_s=timeout_s, latency_s=float(header["latency_s"]))
    store = _torch_store(rank, world_size, ip, timeout_s) if rank == 0 else None
    emit({"event": "listening", "address": [ip, store.port] if store is not None else None})

    def connect(addresses: list[Any]) -> Transport:
        from mlfleet.comm.transport.torch_dist import TorchTransport

        host, port = addresses[0]
        joined = store or _torch_store(rank, world_size, host, timeout_s, port=port)
        return TorchTransport.from_store(rank=rank, world_size=world_size, store=joined,
                                         timeout_s=timeout_s)

    return connect


def _torch_store(rank: int, world_size: int, host: str, timeout_s: float,
                 port: int = 0) -> Any:
    import datetime

    import torch.distributed as dist

    return dist.TCPStore(host, port, world_size, rank == 0,  # type: ignore[attr-defined]
                         timeout=datetime.timedelta(seconds=timeout_s), wait_for_workers=False)


def _exit_on_eof() -> None:
    """The parent holds our stdin open for as long as it lives."""
    sys.stdin.read()
    os._exit(3)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mlfleet.comm.worker`` (launcher mode without arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return _child_main()
    # imported here: a launched rank needs neither click nor the CLI
    from mlfleet.comm.standalone import standalone_main

    return standalone_main(argv)


if __name__ == "__main__":
    # The protocol stream lives in mlfleet.comm.progress, which job code imports too, so
    # running this __main__ copy of the module is fine.
    sys.exit(main())
