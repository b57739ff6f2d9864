"""The body of ``mlfleet ops record``: write a record, or verify one."""

from __future__ import annotations

from pathlib import Path

import click

from mlfleet.errors import ConstraintViolation, InputError


def _emit(payload: object) -> None:
    from mlfleet.cli import emit_json

    emit_json(payload)


def record_or_verify(*, data: tuple[Path, ...], model: Path | None, config: str | None,
                     code: Path | None, out: Path | None, verify: Path | None,
                     as_json: bool) -> None:
    """``--verify FILE`` alone, or a record of ``--data/--model/--config`` (to ``--out`` or
    stdout). Raises ConstraintViolation (exit 3) when a verified record does not match."""
    if verify is not None:
        if data or model is not None or config is not None or code is not None or out:
            raise InputError("--verify FILE recomputes the record FILE names; give it alone "
                             "(without --data, --model, --config, --code or --out)")
        _verify(verify, as_json=as_json)
        return
    if not data and model is None and config is None:
        raise InputError("give what the run used: --data PATH, --model PATH and/or "
                         "--config SCENARIO (or --verify RECORD)")
    _record(data=data, model=model, config=config, code=code, out=out, as_json=as_json)


def _record(*, data: tuple[Path, ...], model: Path | None, config: str | None,
            code: Path | None, out: Path | None, as_json: bool) -> None:
    from mlfleet.ops.declare.record import (
        build_record,
        record_json,
        record_text,
        scenario_configuration,
        write_record,
    )

    configuration = None if config is None else scenario_configuration(config)
    if code is not None and not code.is_dir():
        raise InputError(f"--code(={str(code)!r}) must be a directory: the checkout of the "
                         "code the run used")
    record = build_record(data=[Path(p) for p in data], model=model, configuration=configuration,
                          code_root=code, kind="training")
    if out is not None:
        write_record(out, record)
    if as_json:
        _emit({"out": None if out is None else str(out), "record": record_json(record)})
    elif out is None:
        click.echo(record_text(record), nl=False)
    else:
        code_id = record.code.commit or record.code.package_version
        click.echo(f"wrote {out}: {len(record.data)} data path(s), code {code_id}"
                   f"{' (dirty)' if record.code.dirty else ''}, environment "
                   f"{record.environment.sha256[:12]}")


def _verify(path: Path, *, as_json: bool) -> None:
    from mlfleet.ops.declare.record_verify import read_record, verify_record

    changes = verify_record(read_record(path))
    if as_json:
        _emit({"record": str(path), "matches": not changes, "changes": changes})
    elif not changes:
        click.echo(f"{path}: every part matches")
    else:
        for line in changes:
            click.echo(f"changed: {line}")
    if changes:
        raise ConstraintViolation(f"{path}: {len(changes)} part(s) changed since the record "
                                  "was written")
