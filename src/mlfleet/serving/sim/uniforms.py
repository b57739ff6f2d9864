"""Uniform draws from the engine's generator, taken ahead in blocks.

One call of ``rng.random()`` costs about a microsecond — as much as everything else a
request-level simulation does for a request — while ``rng.random(k)`` costs a few
hundredths of that per value. :class:`BlockUniforms` hands out, one at a time, exactly
the doubles that successive ``rng.random()`` calls would return, drawing them k at a
time. :meth:`BlockUniforms.release` winds the generator back to just after the last
double handed out (``bit_generator.advance``, which the PCG64 family has and which
counts one step per double), so whoever draws from the generator next gets the numbers
it would have got had nothing been drawn ahead: results do not depend on the blocks.

Generators that cannot be wound back (MT19937, SFC64, Philox, whose ``advance`` counts
blocks of four) are never drawn ahead. A draw from the generator by someone else while
values are held (a policy sharing the engine's generator) is detected at release: the
generator is then left where it is, so no number is ever handed out twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

REWINDABLE = (np.random.PCG64, np.random.PCG64DXSM)
"""Bit generators whose ``advance(k)`` equals k calls of ``random()``."""
FIRST_BLOCK = 16
"""Doubles drawn ahead after a release; the block doubles on each refill up to ..."""
MAX_BLOCK = 1024
"""... this many (~0.03 µs per double instead of ~1 µs)."""


class BlockUniforms:
    """U[0, 1) doubles from ``rng``, the same sequence as ``rng.random()`` calls."""

    __slots__ = ("_rng", "_rewindable", "_held", "_drawn", "_start", "_end", "_block",
                 "_max_block")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        bit_generator = rng.bit_generator
        self._rewindable = bit_generator if isinstance(bit_generator, REWINDABLE) else None
        self._held: list[float] = []
        """Drawn, not yet handed out; the next one last (``pop`` is the cheapest take)."""
        self._drawn = 0
        """Size of the block ``_held`` came from."""
        self._start: Any = None
        """Generator state before that block; ``_end`` after it."""
        self._end: Any = None
        self._max_block = MAX_BLOCK if self._rewindable is not None else 1
        self._block = min(FIRST_BLOCK, self._max_block)

    def random(self) -> float:
        """The next double of the generator's ``random()`` sequence."""
        held = self._held
        if not held:
            self._refill()
        return held.pop()

    def release(self) -> None:
        """Give back the doubles drawn ahead: the generator continues after the last one
        handed out (unless someone else drew from it meanwhile; see the module doc)."""
        held, bit_generator = self._held, self._rewindable
        if not held:
            return
        assert bit_generator is not None  # others never hold a value after a draw
        if bit_generator.state == self._end:
            bit_generator.state = self._start
            bit_generator.advance(self._drawn - len(held))
        held.clear()
        self._block = min(FIRST_BLOCK, self._max_block)

    def _refill(self) -> None:
        k, bit_generator = self._block, self._rewindable
        if bit_generator is not None:
            self._start = bit_generator.state
        self._held.extend(self._rng.random(k)[::-1].tolist())
        if bit_generator is not None:
            self._end = bit_generator.state
        self._drawn = k
        self._block = min(2 * k, self._max_block)
