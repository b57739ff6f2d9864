"""Results files and regressions: what changed since the last stored run.

A results file is strict JSON ``{"schema": RESULTS_SCHEMA, "seed", "quick", "checks": [...]}``
written whole or not at all. Against a baseline (an earlier results file) a run flags three
kinds of regression, each of which makes ``mlfleet validate`` exit 3:

* ``now-fails``: a check that passed before and does not pass now;
* ``error-grew``: |error| grew by more than :data:`GROWTH_TOLERANCE` of the check's bound
  (a quarter of its allowed band: a deterministic check does not move at all with the same
  seed, a seeded simulation moves a little with another seed);
* ``disappeared``: a baseline check that a provider run this time no longer produces.

Only checks that this run could have produced are compared, so a ``--quick`` run is not
told that the slow checks of a full baseline disappeared (a provider may also run fewer
cases when quick, so ``disappeared`` is only judged between runs of the same mode). Goal checks are compared too,
but their regressions are reported, never fatal, like their misses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlfleet import atomic, strict_json
from mlfleet.validate.results import RESULTS_SCHEMA, CheckResult
from mlfleet.validate.runner import ValidateInputError, matches

GROWTH_TOLERANCE = 0.25
"""An |error| that grew by more than this fraction of the check's bound is a regression."""
KINDS = ("now-fails", "error-grew", "disappeared")


@dataclass(frozen=True, kw_only=True)
class Regression:
    """One check that got worse than in the baseline."""

    id: str
    kind: str
    """One of :data:`KINDS`."""
    before: str
    now: str
    fatal: bool
    """False for goal checks: reported, like their misses, without failing the run."""


def compare(rows: Sequence[CheckResult], baseline: Sequence[CheckResult], *,
            providers_run: Sequence[str], only: Sequence[str] = (),
            same_mode: bool = True) -> list[Regression]:
    """Regressions of ``rows`` against ``baseline`` (see the module docstring)."""
    now = {r.id: r for r in rows}
    found: list[Regression] = []
    for old in baseline:
        if old.provider not in providers_run or not matches(old.id, only) \
                or old.status == "error":
            continue
        new = now.get(old.id)
        if new is None:
            if same_mode and not any(r.provider == old.provider and r.status == "error" for r in rows):
                found.append(_regression(old, "disappeared", "absent"))
        elif old.status == "pass" and new.status != "pass":
            found.append(_regression(old, "now-fails", f"{new.status} ({_err(new)})"))
        elif _grew(old, new):
            found.append(_regression(old, "error-grew", _err(new)))
    return found


def _grew(old: CheckResult, new: CheckResult) -> bool:
    if not (math.isfinite(old.error) and math.isfinite(new.error)):
        return False
    return abs(new.error) - abs(old.error) > GROWTH_TOLERANCE * new.bound


def _err(row: CheckResult) -> str:
    return f"{row.error:+.3g}" if row.absolute else f"{row.error:+.2%}"


def _regression(old: CheckResult, kind: str, now: str) -> Regression:
    return Regression(id=old.id, kind=kind, before=f"{old.status} ({_err(old)})", now=now,
                      fatal=old.held == "asserted")


def document(rows: Sequence[CheckResult], *, seed: int, quick: bool,
             regressions: Sequence[Regression] = (), baseline: str = "") -> dict[str, Any]:
    """The results file's content (also the ``--json`` output)."""
    return {"schema": RESULTS_SCHEMA, "seed": seed, "quick": quick, "baseline": baseline,
            "ok": not any(r.fatal for r in rows) and not any(g.fatal for g in regressions),
            "counts": {s: sum(r.status == s for r in rows)
                       for s in ("pass", "fail", "miss", "error")},
            "checks": [r.to_dict() for r in rows],
            "regressions": [vars(g) for g in regressions]}


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A results file read back: its checks and whether it was a ``--quick`` run."""

    rows: tuple[CheckResult, ...]
    quick: bool


def load(path: Path, *, option: str) -> Stored:
    """A stored results file (ValidateInputError, naming ``option``, otherwise)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidateInputError(f"{option} {str(path)!r} is not a readable results file:"
                                 f" {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict) or data.get("schema") != RESULTS_SCHEMA:
        schema = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ValidateInputError(f"{option} {str(path)!r} has schema {schema!r};"
                                 f" expected {RESULTS_SCHEMA!r}")
    try:
        return Stored(rows=tuple(CheckResult.from_dict(row) for row in data["checks"]),
                      quick=bool(data["quick"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidateInputError(f"{option} {str(path)!r}: malformed check row ({exc})") \
            from None


def check_writable(path: Path, *, option: str) -> None:
    """Refuse up front a path that cannot be written, before minutes of checks run (its
    directory is created)."""
    atomic.check_writable(path, error=ValidateInputError, option=option, mkdir=True)


def save(path: Path, payload: dict[str, Any], *, option: str) -> None:
    """Write ``payload`` as strict JSON to ``path``, whole or not at all."""
    write_text(path, strict_json.dumps(payload) + "\n", option=option)


def write_text(path: Path, text: str, *, option: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (ValidateInputError naming ``option``);
    the file gets the usual permissions (the umask's), like any file the user writes."""
    atomic.write_text_atomically(path, text, error=ValidateInputError, option=option,
                                 mkdir=True)
