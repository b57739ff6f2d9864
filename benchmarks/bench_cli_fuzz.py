"""The CLI fuzz at benchmark size: 10,000 generated argument lists across every command.

CI runs ``tests/test_cli_fuzz.py`` with 1,000 lists; this runs the same test with
``MLFLEET_FUZZ_EXAMPLES`` raised (issue 10 item 6: each list ends in exit 0, 2 or 3 with
no traceback) and reports how many ran and how long it took:

    python benchmarks/bench_cli_fuzz.py [--examples 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_fuzz(examples: int) -> tuple[int, float, str]:
    """(pytest exit status, wall seconds, last line of its output) for one fuzz run."""
    env = {**os.environ, "MLFLEET_FUZZ_EXAMPLES": str(examples)}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
            "tests/test_cli_fuzz.py", "--hypothesis-show-statistics"]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall_s = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    passing = next((line.strip(" -") for line in lines if " passing, " in line), "")
    return proc.returncode, wall_s, passing or (lines[-1] if lines else proc.stderr.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    code, wall_s, summary = run_fuzz(args.examples)
    result = {"examples": args.examples, "ok": code == 0, "wall_s": round(wall_s, 1),
              "summary": summary}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        verdict = "every list ended in 0/2/3, no traceback" if code == 0 else "FAILED"
        print(f"{args.examples:,} argument lists in {wall_s:.0f} s: {verdict} ({summary})")
    return code


if __name__ == "__main__":
    sys.exit(main())
