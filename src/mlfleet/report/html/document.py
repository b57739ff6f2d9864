"""The report's HTML document: head with inline CSS, the scenario, the plan, the figures.

Self-contained: no script, no stylesheet, font or image from elsewhere; the only URL in
the file is the SVG namespace.
"""

from __future__ import annotations

from html import escape

from mlfleet.plan.compose import Plan

STYLE = """
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
h3 { margin-bottom: 0.3em; text-transform: capitalize; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
table.numbers th { font-weight: normal; color: #1f5f99; font-family: monospace; }
tr.violated td:first-child { color: #b00; font-weight: bold; }
tr.ok td:first-child { color: #080; }
.note { color: #666; font-size: 0.9em; }
figure { margin: 1.5em 0; } figcaption { max-width: 720px; font-size: 0.95em; }
"""


def document(*, plan: Plan, plan_body: str, figures: list[str], seed: int) -> str:
    """The whole page; ``plan_body`` and ``figures`` are HTML fragments."""
    meta = plan.scenario
    title = f"mlfleet report: {meta['name']}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(str(meta.get('description', '')))}</p>",
        f'<p class="note">workload {escape(str(meta["workload"]))} · accelerator '
        f'{escape(str(meta["accelerator"]))} · {escape(str(meta["gpus"]))} GPUs · '
        f"simulations seeded with {seed}</p>",
        '<h2 id="plots">Plots</h2>', *figures,
        '<h2 id="plan">Plan of every chapter</h2>', plan_body,
        "</body></html>",
    ])
