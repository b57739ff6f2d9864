"""Checked shape arguments shared by the builders, the closed forms and the CLI."""

from __future__ import annotations

import math
import re

from mlfleet.infra.topology.errors import TopologyInputError

_SHAPE_RE = re.compile(r"^\s*\d+(\s*[xX×]\s*\d+)*\s*$")


def check_k(k: object) -> int:
    """A fat-tree's switch radix: an even integer >= 2 (Al-Fares et al. need k/2 up, k/2 down)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 2 or k % 2:
        raise TopologyInputError(f"k(={k!r}) must be an even integer >= 2: a k-ary fat-tree "
                                 "switch has k/2 ports down and k/2 up")
    return k


def check_dims(dims: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Torus/mesh dimensions: one to three integers, each >= 1."""
    out = tuple(dims)
    if not 1 <= len(out) <= 3 or any(not isinstance(d, int) or isinstance(d, bool) or d < 1
                                     for d in out):
        shown = "x".join(str(d) for d in out) or "(none)"
        raise TopologyInputError(f"torus dims(={shown}) must be 1 to 3 integers >= 1, "
                                 "e.g. 4x4x4")
    return out


def parse_dims(text: str) -> tuple[int, ...]:
    """``'16x16x16'`` -> (16, 16, 16); TopologyInputError naming the text otherwise."""
    if not _SHAPE_RE.match(text):
        raise TopologyInputError(f"torus shape {text!r} must look like AxB or AxBxC with "
                                 "integers >= 1, e.g. 4x4x4")
    return check_dims([int(t) for t in re.split(r"[xX×]", text)])


def chips(dims: tuple[int, ...]) -> int:
    return math.prod(dims)
