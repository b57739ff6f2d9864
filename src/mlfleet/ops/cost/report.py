"""The JSON document and the terminal table of a chargeback."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mlfleet.ops.cost.chargeback import Chargeback
from mlfleet.ops.cost.resources import Rates


def chargeback_document(cb: Chargeback, *, rates: Rates, fidelity: str,
                        source: str) -> dict[str, Any]:
    """Strict-JSON-ready document of ``cb``."""
    b = cb.breakdown
    return {"fidelity": fidelity, "source": source, "by": cb.by, "split": cb.split,
            "rates": asdict(rates),
            "breakdown": {"workload_usd": dict(b.workload_usd), "idle_usd": dict(b.idle_usd),
                          "overhead_usd": b.overhead_usd,
                          "total_workload_usd": b.total_workload_usd,
                          "total_idle_usd": b.total_idle_usd, "total_usd": b.total_usd,
                          "idle_fraction": b.idle_fraction},
            "charges": [{"tenant": c.tenant, "workload_usd": c.workload_usd,
                         "shared_usd": c.shared_usd, "total_usd": c.total_usd}
                        for c in cb.charges],
            "shared_workload_usd": cb.shared_workload_usd,
            "unassigned_idle_usd": cb.unassigned_idle_usd, "charged_usd": cb.charged_usd}


def print_chargeback(doc: dict[str, Any]) -> None:
    """Bills, then the cluster's breakdown."""
    from mlfleet.report.terminal import print_table

    b = doc["breakdown"]
    rows = [(c["tenant"], f"${c['workload_usd']:,.2f}", f"${c['shared_usd']:,.2f}",
             f"${c['total_usd']:,.2f}") for c in doc["charges"]]
    if doc["unassigned_idle_usd"] > 0:
        rows.append(("(idle, unassigned)", "", "", f"${doc['unassigned_idle_usd']:,.2f}"))
    print_table((doc["by"], "workload", f"shared ({doc['split']})", "total"), rows,
                title=f"Chargeback by {doc['by']} ({doc['fidelity']}: {doc['source']})")
    parts = [(k, f"${b['workload_usd'][k]:,.2f}", f"${b['idle_usd'].get(k, 0.0):,.2f}")
             for k in b["workload_usd"]]
    parts.append(("overhead", "", f"${b['overhead_usd']:,.2f}"))
    parts.append(("total", f"${b['total_workload_usd']:,.2f}",
                  f"${b['total_idle_usd'] + b['overhead_usd']:,.2f}  (all: "
                  f"${b['total_usd']:,.2f}, idle {b['idle_fraction']:.1%})"))
    print_table(("resource", "workload", "idle / overhead"), parts,
                title="Total = workload + idle + overhead (OpenCost)")


def emit(doc: dict[str, Any], as_json: bool) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(doc)
    else:
        print_chargeback(doc)
