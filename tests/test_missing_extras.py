"""A command whose optional extra is missing says which one to install: one line, exit 2.

Each case runs in a subprocess where the extra's package is made unimportable
(``sys.modules[name] = None``), as on a core install (`pip install -e .`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FEATURES = str(REPO / "examples" / "feature_repo")

CASES = [
    ("duckdb", "data", ["features", "apply", FEATURES, "--check"]),
    ("torch", "torch", ["run", "train", "--ranks", "2", "--steps", "2"]),
    ("torch", "torch", ["serve", "--help"]),
    ("pyarrow", "data", ["storage", "dataset", "log",
                         str(REPO / "tests" / "storage" / "datasets" / "data" / "clicks")]),
]


@pytest.mark.parametrize(("package", "extra", "args"), CASES)
def test_missing_extra_is_one_line_and_exit_2(package: str, extra: str, args: list[str]) -> None:
    probe = (f"import sys; sys.modules[{package!r}] = None\n"
             "from mlfleet.cli import main\n"
             f"sys.exit(main({args!r}))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: this command needs {package}, an optional dependency that is not installed: "
        f"pip install 'mlfleet[{extra}]'"]


def test_every_named_extra_exists_in_pyproject() -> None:
    import tomllib

    from mlfleet.entry import OPTIONAL_EXTRAS

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert set(OPTIONAL_EXTRAS.values()) <= set(extras)
