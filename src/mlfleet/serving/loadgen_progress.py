"""A one-line progress bar with an ETA, redrawn in place on a terminal's stderr."""

from __future__ import annotations

import sys
from typing import TextIO

PROGRESS_PERIOD_S = 0.5
"""How often a running command redraws its bar."""
WIDTH = 30
"""Characters of the bar itself."""


class ProgressBar:
    """``[#########.........]  31%  3.1/10 s  ETA 6.9 s  sent 3100  dropped 0`` on ``stream``
    (default stderr); the caller draws it only when that stream is a terminal."""

    def __init__(self, *, total_s: float, stream: TextIO | None = None) -> None:
        self.total_s = total_s
        self.stream = stream if stream is not None else sys.stderr
        self._drawn = False

    def line(self, elapsed_s: float, **counts: int) -> str:
        """The bar after ``elapsed_s`` of ``total_s``, with ``counts`` appended."""
        done = min(max(elapsed_s / self.total_s, 0.0), 1.0)
        filled = round(done * WIDTH)
        eta_s = max(self.total_s - elapsed_s, 0.0)
        tail = "".join(f"  {name} {value}" for name, value in counts.items())
        return (f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done:4.0%}  "
                f"{elapsed_s:.1f}/{self.total_s:g} s  ETA {eta_s:.1f} s{tail}")

    def draw(self, elapsed_s: float, **counts: int) -> None:
        """Redraw the bar in place."""
        self.stream.write("\r" + self.line(elapsed_s, **counts) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line, so what follows starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
