"""The main job runs on the core install: `mlfleet plan` imports no optional extra.

README's first command is `pip install -e . && mlfleet plan` (no extras). A chapter whose
plan section reaches a module that imports torch, DuckDB or another extra at load time
would crash there; this test catches it while the extras are installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXTRAS = ("torch", "duckdb", "pyarrow", "deltalake", "redis", "aiohttp", "matplotlib",
          "webdataset", "safetensors")

PROBE = f"""
import io, sys, contextlib
from mlfleet.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    for args in (["plan", "--json"], ["plan", "examples/recsys-serving.yaml", "--json"],
                 ["plan", "examples/vision-training.yaml", "--json"]):
        assert main(args) == 0, args
print(",".join(m for m in {EXTRAS!r} if m in sys.modules))
"""


def test_plan_imports_no_optional_extra() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "", f"mlfleet plan imported extras: {out.stdout.strip()}"
