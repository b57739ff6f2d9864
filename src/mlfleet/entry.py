"""Running a click command the mlfleet way: every error mapped to an exit status.

``mlfleet`` itself and the stand-alone entry points (``python -m mlfleet.serving.server``,
``python -m mlfleet.comm.worker`` under torchrun) share :func:`run_command`, so each
prints bad input as one line on stderr (never a traceback) and exits with the same
codes: 0 ok, 1 a real run failed, 2 bad input (or an optional extra the command needs is
not installed: one line naming the ``pip install`` that adds it), 3 a constraint violated,
130 interrupted (SIGINT, Ctrl-C), 143 terminated (SIGTERM).

Both signals unwind the stack as an exception, so every ``finally`` runs: run ranks are
killed and reaped, temporary directories removed. Once the first arrives, further
SIGINTs and SIGTERMs are ignored, so a second Ctrl-C cannot cut the clean-up short
(which is bounded: ranks get SIGKILL) or print a traceback.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

import click

from mlfleet.errors import MlfleetError, error_lines, one_line

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

OPTIONAL_EXTRAS = {
    "torch": "torch", "safetensors": "torch", "duckdb": "data", "pyarrow": "data",
    "deltalake": "storage", "webdataset": "storage", "redis": "redis", "aiohttp": "serve",
    "matplotlib": "plot", "mlflow": "ops", "ray": "ray",
}
"""Top-level package of an optional dependency -> the pyproject extra that installs it."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so code that stops cleanly on Ctrl-C
    stops the same way on ``kill``."""


def run_command(command: click.Command, argv: Sequence[str] | None, *, prog_name: str) -> int:
    """Run ``command`` on ``argv`` (None: ``sys.argv[1:]``); its exit status."""
    try:
        with _sigterm_raises():
            command.main(args=list(argv) if argv is not None else None, prog_name=prog_name,
                         standalone_mode=False)
    except MlfleetError as exc:
        for line in error_lines(exc):
            click.echo(f"error: {line}", err=True)
        return exc.exit_code
    except click.exceptions.Abort as exc:  # click's wrapper of KeyboardInterrupt
        word = "interrupted" if isinstance(exc.__cause__, KeyboardInterrupt) else "aborted"
        return _stopped(terminated=isinstance(exc.__cause__, Terminated), word=word)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.ClickException as exc:
        click.echo(f"error: {one_line(exc.format_message())}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt as exc:
        return _stopped(terminated=isinstance(exc, Terminated), word="interrupted")
    except ModuleNotFoundError as exc:
        package = (exc.name or "").split(".")[0]
        if package not in OPTIONAL_EXTRAS:
            raise
        click.echo(f"error: this command needs {package}, an optional dependency that is not "
                   f"installed: pip install 'mlfleet[{OPTIONAL_EXTRAS[package]}]'", err=True)
        return 2
    return 0


def _stopped(*, terminated: bool, word: str) -> int:
    """Say why we stop, on one line; 128 + the signal's number, as a shell reports it."""
    _ignore_stop_signals()
    click.echo("terminated" if terminated else word, err=True)
    return 128 + (signal.SIGTERM if terminated else signal.SIGINT)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (where it would have killed us).

    Only in the main thread (the only one that may set handlers), and only over the
    default action: a caller that ignores or handles SIGTERM keeps its choice.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) == _raise_terminated:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _ignore_stop_signals()
    raise Terminated


def _ignore_stop_signals() -> None:
    """From the first stop signal on, the rest are ignored: clean-up runs to its end."""
    if threading.current_thread() is threading.main_thread():
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
