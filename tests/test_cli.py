"""The top-level CLI: help, version, exit codes and one-line errors."""

from __future__ import annotations

from cli_helpers import assert_one_line_error, run_cli
from mlfleet.cli import SUBCOMMANDS, main


def test_help_lists_commands() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for name in ("plan", "catalog", "scenario"):
        assert name in proc.stdout


def test_no_arguments_prints_help_and_succeeds() -> None:
    proc = run_cli()
    assert proc.returncode == 0
    assert "Usage" in proc.stdout


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0 and "mlfleet" in proc.stdout


def test_unknown_command_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("frobnicate"), "frobnicate")


def test_unknown_option_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("catalog", "list", "--nope"), "--nope")


def test_every_registered_subcommand_imports_and_has_help() -> None:
    for name in SUBCOMMANDS:
        assert main([name, "--help"]) == 0, name


def test_every_sim_and_run_command_imports_and_has_help() -> None:
    """Chapters register into `mlfleet sim`, `run`, `infra` and `lab` lazily: a registry row
    whose module or attribute is wrong only fails when that command runs, so run each --help."""
    from mlfleet.comm.lab.cli import LAB_COMMANDS
    from mlfleet.infra.cli import INFRA_COMMANDS
    from mlfleet.ops.cli import OPS_COMMANDS
    from mlfleet.ops.experiment.cli import EXPERIMENT_COMMANDS
    from mlfleet.run.cli import RUN_COMMANDS
    from mlfleet.sim.cli import SIM_COMMANDS

    for group, registry in (("sim", SIM_COMMANDS), ("run", RUN_COMMANDS),
                            ("infra", INFRA_COMMANDS), ("lab", LAB_COMMANDS),
                            ("ops", OPS_COMMANDS), ("ops experiment", EXPERIMENT_COMMANDS)):
        assert registry, group
        for name in registry:
            assert main([*group.split(), name, "--help"]) == 0, (group, name)


def test_unknown_sim_or_run_command_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("sim", "frobnicate"), "frobnicate")
    assert_one_line_error(run_cli("run", "frobnicate"), "frobnicate")
