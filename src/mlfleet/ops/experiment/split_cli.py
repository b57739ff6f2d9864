"""``mlfleet ops experiment split``: assign units to arms by hash; the SRM check.

``--units N`` splits the ids 0 … N−1; ``--units FILE`` splits the ids in FILE (one per
line; a first line ``unit_id`` is a header). ``--salt-b`` splits the same units a
second time with another salt and tests that the two splits are independent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlfleet.ops.experiment.errors import ExperimentInputError

MAX_UNITS = 10_000_000
"""Most units one call hashes (about 7 s)."""


def _units(text: str) -> list[str]:
    if text.strip().isascii() and text.strip().isdigit():
        count = int(text)
        if not 1 <= count <= MAX_UNITS:
            raise ExperimentInputError(f"--units(={text}) must be between 1 and {MAX_UNITS}")
        from mlfleet.ops.experiment.split import unit_range

        return list(unit_range(count))
    return _unit_file(Path(text))


def _unit_file(path: Path) -> list[str]:
    if not path.is_file():
        raise ExperimentInputError(f"--units(={str(path)!r}) must be a count or a file of unit "
                                   "ids (one per line)")
    try:
        with path.open(encoding="utf-8") as handle:
            ids = [line.strip() for line in handle if line.strip()]
    except UnicodeDecodeError:
        raise ExperimentInputError(f"--units(={str(path)!r}) is not a UTF-8 text file") from None
    ids = ids[1:] if ids[:1] == ["unit_id"] else ids
    if not ids or len(ids) > MAX_UNITS:
        raise ExperimentInputError(f"--units(={str(path)!r}) holds {len(ids)} ids; between 1 "
                                   f"and {MAX_UNITS} are split")
    return ids


def _document(ids: list[str], weights: dict[str, float], salt: str,
              salt_b: str | None) -> dict[str, Any]:
    import numpy as np

    from mlfleet.ops.experiment.split import assign, independence
    from mlfleet.ops.experiment.srm import srm_test

    arm = assign(ids, salt=salt, weights=weights)
    counts = np.bincount(arm, minlength=len(weights))
    srm = srm_test(counts.tolist(), list(weights.values()))
    doc: dict[str, Any] = {
        "units": len(ids), "salt": salt,
        "arms": [{"arm": a, "weight": w, "units": int(c), "expected": e, "share": c / len(ids)}
                 for (a, w), c, e in zip(weights.items(), counts, srm.expected, strict=True)],
        "srm": {"chi2": srm.chi2, "dof": srm.dof, "p_value": srm.p_value,
                "threshold": srm.threshold, "mismatch": srm.mismatch}}
    if salt_b is not None:
        other = assign(ids, salt=salt_b, weights=weights)
        ind = independence(arm, other, arms_a=len(weights), arms_b=len(weights))
        doc["independence"] = {"salt_b": salt_b, "table": [list(r) for r in ind.table],
                               "chi2": ind.chi2, "p_value": ind.p_value}
    return doc


def _print(doc: dict[str, Any]) -> None:
    from mlfleet.report.terminal import print_table

    print_table(("arm", "weight", "units", "expected", "share"),
                [(a["arm"], f"{a['weight']:.2%}", a["units"], f"{a['expected']:.1f}",
                  f"{a['share']:.4%}") for a in doc["arms"]],
                title=f"{doc['units']} units split with salt {doc['salt']!r}")
    s = doc["srm"]
    verdict = "MISMATCH: do not trust this experiment" if s["mismatch"] else "no mismatch"
    click.echo(f"SRM: chi2 = {s['chi2']:.3f} (dof {s['dof']}), p = {s['p_value']:.4g} "
               f"(flag below {s['threshold']}): {verdict}")
    if "independence" in doc:
        ind = doc["independence"]
        click.echo(f"independence from salt {ind['salt_b']!r}: table {ind['table']}, "
                   f"chi2 = {ind['chi2']:.3f}, p = {ind['p_value']:.4g}")


@click.command("split")
@click.option("--units", required=True, metavar="N|FILE",
              help=f"A count of units (ids 0..N-1, at most {MAX_UNITS}) or a file of ids.")
@click.option("--weights", default="control=50,treatment=50", show_default=True,
              help="ARM=PERCENT,...; the percentages must sum to 100.")
@click.option("--salt", default="experiment", show_default=True,
              help="The experiment's salt: a different salt gives an independent split.")
@click.option("--salt-b", default=None,
              help="Split again with this salt and test the two splits' independence.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def split_command(units: str, weights: str, salt: str, salt_b: str | None,
                  as_json: bool) -> None:
    """Assign units to arms by a salted SHA-256 hash; check the sample ratio (SRM)."""
    from mlfleet.ops.experiment.split import parse_weights

    parsed = parse_weights(weights)
    doc = _document(_units(units), parsed, salt, salt_b)
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        _print(doc)
