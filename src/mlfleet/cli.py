"""The ``mlfleet`` command line.

Sub-command groups live next to their chapter (``mlfleet/comm/cli.py`` ...) and are
imported only when invoked, so ``mlfleet --help`` stays fast. Exit codes:
0 ok, 2 bad input (one line on stderr, no traceback), 3 a scenario constraint was
violated, 1 a real run failed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from mlfleet import __version__
from mlfleet.entry import run_command
from mlfleet.lazy_group import LazyGroup

# name -> (module, attribute, one-line help). Imported lazily on first use.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "plan": ("mlfleet.plan.cli", "plan_command", "Full-stack plan for a scenario (the main job)."),
    "catalog": ("mlfleet.catalog.cli", "catalog_group", "List and show catalog entries with sources."),
    "scenario": ("mlfleet.scenario_cli", "scenario_group", "Scenario schema and validation."),
    "infra": ("mlfleet.infra.cli", "infra_group", "Infrastructure models: roofline, host probe."),
    "comm": ("mlfleet.comm.cli", "comm_group", "Collective communication cost models and selection."),
    "lab": ("mlfleet.comm.lab.cli", "lab_group", "Emulated multi-host lab (network namespaces)."),
    "run": ("mlfleet.run.cli", "run_group", "Run real implementations and measure them."),
    "serving": ("mlfleet.serving.cli", "serving_group",
                "Serving models: step time, KV cache, Erlang C, replicas."),
    "sim": ("mlfleet.sim.cli", "sim_group", "Simulations on the shared kernel: serving, M/M/c."),
    "reliability": ("mlfleet.reliability.cli", "reliability_group",
                    "Fault tolerance: failure rates, checkpoint intervals, goodput."),
    "storage": ("mlfleet.storage.cli", "storage_group",
                "Storage models: I/O budgets, tiers, caches, checkpoint cost."),
    "features": ("mlfleet.storage.features.cli", "features_group",
                 "Feature store: apply, point-in-time retrieval, materialize, online lookup."),
    "chaos": ("mlfleet.reliability.chaos.cli", "chaos_command",
              "Chaos on a real fleet behind HAProxy: SIGKILL, SIGSTOP, slow replicas; SLOs."),
    "ops": ("mlfleet.ops.cli", "ops_group",
            "ML operations: registry, experiments, canary judge, drift, cost, debugging."),
    "report": ("mlfleet.report.cli", "report_command",
               "The plan of every chapter as one self-contained HTML file with plots."),
    "book": ("mlfleet.book.cli", "book_group",
             "Textbook tables from the models: write them, check a chapter against them."),
    "validate": ("mlfleet.validate.cli", "validate_command",
                 "Every model against its reference in one table; regressions vs a baseline."),
    "sweep": ("mlfleet.sweep.cli", "sweep_command",
              "Design-space sweep over scenario fields to Parquet (vectorised, or on Ray)."),
    "serve": ("mlfleet.serving.server.cli", "serve_command",
              "Real HTTP model server (tiny GPT + ranker, aiohttp + PyTorch) on 127.0.0.1."),
    "loadgen": ("mlfleet.serving.loadgen", "loadgen_command",
                "Open-loop Poisson load against a running server."),
}


@click.group(cls=LazyGroup, registry=SUBCOMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlfleet")
@click.option("--catalog", "catalog_dirs", multiple=True, metavar="DIR",
              help="A user catalog: DIR's *.yaml files add or override catalog entries, a "
                   "source per value (docs/catalog.md). Repeatable; default $MLFLEET_CATALOG.")
@click.pass_context
def cli(ctx: click.Context, catalog_dirs: tuple[str, ...]) -> None:
    """mlfleet: ML systems at production scale — model, simulate, run.

    Start with `mlfleet plan` (a full-stack plan for the bundled default scenario).
    """
    if catalog_dirs:
        from mlfleet.catalog.user import using_catalog

        ctx.with_resource(using_catalog(catalog_dirs))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and map errors to exit codes (never a traceback for bad input)."""
    return run_command(cli, argv, prog_name="mlfleet")


def emit_json(payload: Any, *, null_reasons: Mapping[str, str] | None = None) -> None:
    """Print ``payload`` as strict JSON (sorted keys, stable) to stdout.

    Non-finite floats become ``null`` with a ``<key>_null_reason`` beside them (the
    command's reason from ``null_reasons`` where it gave one); see :mod:`mlfleet.strict_json`.
    """
    from mlfleet import strict_json

    click.echo(strict_json.dumps(payload, null_reasons=null_reasons))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
