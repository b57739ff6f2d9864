"""Run the validation providers: choose them, import them lazily, collect their checks.

A provider's name (its key in ``PROVIDERS``) is the dotted prefix of every check id it
produces, so ``--only PREFIX`` knows which providers to import. A provider that raises,
returns something that is not a list of checks, breaks that rule, or repeats an id does
not stop the run: it becomes one ``error`` row carrying the message (see
:func:`mlfleet.validate.results.from_error`), and the command fails with status 3.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from mlfleet.errors import InputError
from mlfleet.validate.registry import HELD, PROVIDERS, REFERENCE_KINDS, Check, Context
from mlfleet.validate.results import CheckResult, from_check, from_error

ProviderTable = Mapping[str, tuple[str, str, bool]]
Progress = Callable[[int, int], None] | None


class ValidateInputError(InputError):
    """A bad ``mlfleet validate`` argument: an unknown prefix, an unusable baseline or path."""


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Which checks a run covers."""

    quick: bool = False
    """Only providers registered as quick."""
    only: tuple[str, ...] = ()
    """Keep checks whose id starts with one of these prefixes (all when empty)."""


def matches(check_id: str, prefixes: Sequence[str]) -> bool:
    """Whether ``check_id`` is kept by ``--only`` (every id is kept when there is none)."""
    return not prefixes or any(check_id.startswith(p) for p in prefixes)


def _may_produce(provider: str, prefix: str) -> bool:
    """Whether a provider may hold checks under ``prefix``: its name is a prefix of every
    id it produces (checked in :func:`_checked`)."""
    return provider.startswith(prefix) or prefix.startswith(provider)


def choose(selection: Selection, providers: ProviderTable = PROVIDERS) -> list[str]:
    """Provider names to run, in registry order (ValidateInputError for an unknown prefix)."""
    names = [n for n, (_, _, quick) in providers.items() if quick or not selection.quick]
    for prefix in selection.only:
        if not prefix.strip():
            raise ValidateInputError(f"--only {prefix!r} is empty; give an id prefix such as"
                                     " 'serving' or 'comm.zero'")
        if not any(_may_produce(n, prefix) for n in names):
            raise ValidateInputError(
                f"--only {prefix!r} matches no {'quick ' if selection.quick else ''}provider;"
                f" known: {', '.join(sorted(names)) or '(none)'}")
    return [n for n in names if not selection.only
            or any(_may_produce(n, p) for p in selection.only)]


def _checked(name: str, value: object) -> list[Check]:
    """The provider's return value, checked against the contract (ValueError otherwise)."""
    if not isinstance(value, list) or not all(isinstance(c, Check) for c in value):
        raise ValueError(f"provider {name} returned {type(value).__name__}, not list[Check]")
    for check in value:
        if not check.id.startswith(f"{name}."):
            raise ValueError(f"check id {check.id!r} does not start with its provider's name"
                             f" {name!r}")
        if check.reference_kind not in REFERENCE_KINDS or check.held not in HELD:
            raise ValueError(f"check {check.id}: reference_kind {check.reference_kind!r} or"
                             f" held {check.held!r} is not one of {REFERENCE_KINDS}/{HELD}")
    return value


def run_provider(name: str, ctx: Context, providers: ProviderTable = PROVIDERS,
                 ) -> list[CheckResult]:
    """Import and run one provider; its rows, or one ``error`` row when anything raises."""
    module, function, _ = providers[name]
    start = time.perf_counter()
    try:
        provide = getattr(importlib.import_module(module), function)
        checks = _checked(name, provide(ctx))
    except Exception as exc:  # a broken provider is a result, never a traceback
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return [from_error(provider=name, message=message,
                           elapsed_s=time.perf_counter() - start)]
    elapsed_s = time.perf_counter() - start
    return [from_check(c, provider=name, elapsed_s=elapsed_s) for c in checks]


def _unique(rows: Iterable[CheckResult]) -> list[CheckResult]:
    """Rows with a repeated id become one ``error`` row each (ids key the baseline)."""
    seen: dict[str, CheckResult] = {}
    out: list[CheckResult] = []
    for row in rows:
        if row.id in seen:
            out.append(from_error(provider=row.provider, message=f"duplicate check id {row.id}"
                                  f" (also from {seen[row.id].provider})", elapsed_s=0.0))
            continue
        seen[row.id] = row
        out.append(row)
    return out


def run(selection: Selection, ctx: Context, *, providers: ProviderTable = PROVIDERS,
        progress: Progress = None) -> list[CheckResult]:
    """Every selected check's result, in provider order, then filtered by ``--only``."""
    names = choose(selection, providers)
    rows: list[CheckResult] = []
    for done, name in enumerate(names):
        if progress is not None:
            progress(done, len(names))
        rows.extend(run_provider(name, ctx, providers))
    if progress is not None:
        progress(len(names), len(names))
    kept = [r for r in _unique(rows) if r.status == "error" or matches(r.id, selection.only)]
    if selection.only and not kept:
        raise ValidateInputError(f"--only {', '.join(selection.only)!s} matches no check id")
    return kept
