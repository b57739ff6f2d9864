"""Running a click command the mlfleet way: every error mapped to an exit status.

``mlfleet`` itself and the stand-alone entry points (``python -m mlfleet.serving.server``,
``python -m mlfleet.comm.worker`` under torchrun) share :func:`run_command`, so each
prints bad input as one line on stderr (never a traceback) and exits with the same
codes: 0 ok, 1 a real run failed, 2 bad input, 3 a constraint violated, 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from mlfleet.errors import MlfleetError, error_lines, one_line


def run_command(command: click.Command, argv: Sequence[str] | None, *, prog_name: str) -> int:
    """Run ``command`` on ``argv`` (None: ``sys.argv[1:]``); its exit status."""
    try:
        command.main(args=list(argv) if argv is not None else None, prog_name=prog_name,
                     standalone_mode=False)
    except MlfleetError as exc:
        for line in error_lines(exc):
            click.echo(f"error: {line}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click.ClickException as exc:
        click.echo(f"error: {one_line(exc.format_message())}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0
