"""The terminal rendering of a quality report: one row per column, problems spelled out."""

from __future__ import annotations

from typing import Any

import click


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def render_quality(doc: dict[str, Any]) -> None:
    """Print the ``quality`` document (see ``cli.quality_payload``) as a table and a verdict."""
    from mlfleet.report.terminal import print_table

    limits = doc["thresholds"]
    rows = [[c["name"], c["type"], f"{c['null_rate']:.1%}", _number(c["psi"], ".3f"),
             _number(c["ks_d"], ".3f"), _number(c["ks_p"], ".2g"),
             "ok" if not c["problems"] else "FAIL"] for c in doc["columns"]]
    against = ("no reference" if doc["reference_version"] is None else
               f"against version {doc['reference_version']} ({doc['reference_rows']:,} rows)")
    print_table(["column", "type", "nulls", "PSI", "KS D", "KS p", "verdict"], rows,
                title=f"{doc['dataset']} version {doc['version']} ({doc['rows']:,} rows) "
                      f"{against}; limits: nulls {limits['null_rate_max']:.0%}, "
                      f"PSI {limits['psi_max']}, KS D {limits['ks_max']}")
    if doc["passed"]:
        click.echo("quality: passed")
        return
    click.echo(f"quality: {len(doc['problems'])} problem(s)")
    for problem in doc["problems"]:
        click.echo(f"  - {problem}")
