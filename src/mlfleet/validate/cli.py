"""``mlfleet validate``: run every validation, one table, compare with the stored baseline."""

from __future__ import annotations

from pathlib import Path

import click

from mlfleet.errors import ConstraintViolation
from mlfleet.validate import baseline as store
from mlfleet.validate.baseline import Regression
from mlfleet.validate.registry import Context
from mlfleet.validate.results import CheckResult
from mlfleet.validate.runner import Selection, ValidateInputError, choose, run

DEFAULT_RESULTS = Path(".mlfleet") / "validate" / "latest.json"
"""Where a run stores its results, relative to the current directory: beside the project a
user validates (like ``.pytest_cache``), so the next run there finds its baseline."""
DOCS_COMMAND = "mlfleet validate --quick --write-docs docs/validation.md"


class ValidationFailed(ConstraintViolation):
    """An asserted check failed, a provider raised, or a regression was found (exit 3)."""


@click.command("validate")
@click.option("--quick", is_flag=True, help="Only the providers that fit CI (seconds).")
@click.option("--only", "only", multiple=True, metavar="PREFIX",
              help="Only checks whose id starts with PREFIX (repeatable), e.g. serving.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--results", "results_path", type=click.Path(path_type=Path),
              default=DEFAULT_RESULTS, show_default=True,
              help="Where to store this run's results (JSON, written atomically).")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), default=None,
              help="Results file to compare with [default: the previous --results file].")
@click.option("--save-baseline", "save_baseline", type=click.Path(path_type=Path),
              default=None, help="Also store this run's results here, as a baseline.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every seeded simulation.")
@click.option("--write-docs", "docs_path", type=click.Path(path_type=Path), default=None,
              help=f"Also write the validation page (as `{DOCS_COMMAND}`).")
def validate_command(quick: bool, only: tuple[str, ...], as_json: bool, results_path: Path,
                     baseline_path: Path | None, save_baseline: Path | None, seed: int,
                     docs_path: Path | None) -> None:
    """Run every model's validation and print one table.

    Exit 0 when every asserted check passes and nothing regressed since the baseline,
    3 otherwise (a goal that misses is reported, never fatal), 2 for bad input.
    """
    selection = Selection(quick=quick, only=tuple(only))
    if docs_path is not None and only:
        raise ValidateInputError("--write-docs renders every check; it cannot be combined"
                                 f" with --only {only[0]!r}")
    names = choose(selection)
    old_path = baseline_path or (results_path if results_path.is_file() else None)
    old = store.load(old_path, option="--baseline") if old_path is not None else None
    stores = [(results_path, "--results")]
    stores += [(save_baseline, "--save-baseline")] if save_baseline is not None else []
    for path, option in [*stores, *([(docs_path, "--write-docs")] if docs_path else [])]:
        store.check_writable(path, option=option)
    rows = _run(selection, seed=seed, quiet=as_json)
    regressions = [] if old is None else store.compare(
        rows, old.rows, providers_run=names, only=only, same_mode=old.quick == quick)
    payload = store.document(rows, seed=seed, quick=quick, regressions=regressions,
                             baseline=str(old_path or ""))
    for path, option in stores:
        store.save(path, payload, option=option)
    if docs_path is not None:
        _write_docs(docs_path, rows)
    _show(rows, regressions, payload, as_json=as_json)


def _run(selection: Selection, *, seed: int, quiet: bool) -> list[CheckResult]:
    from mlfleet.report.progress import progress_bar

    with progress_bar(not quiet, "validating") as update:
        return run(selection, Context(seed=seed, quick=selection.quick), progress=update)


def _write_docs(path: Path, rows: list[CheckResult]) -> None:
    from mlfleet.validate.docs_page import render
    from mlfleet.validate.recorded import load_recorded

    store.write_text(path, render(rows, load_recorded(), command=DOCS_COMMAND),
               option="--write-docs")


def _show(rows: list[CheckResult], regressions: list[Regression], payload: dict[str, object],
          *, as_json: bool) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload)
    else:
        from mlfleet.validate.table import print_results

        print_results(rows, regressions)
    failed = [r.id for r in rows if r.fatal]
    regressed = [g.id for g in regressions if g.fatal]
    if failed or regressed:
        raise ValidationFailed(f"{len(failed)} checks failed ({', '.join(failed[:5])}"
                               f"{', …' if len(failed) > 5 else ''}) and {len(regressed)}"
                               f" regressions ({', '.join(regressed[:5])})")
