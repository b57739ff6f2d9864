"""Uniform draws from the engine's generator, taken ahead in blocks.

One call of ``rng.random()`` costs about a microsecond — as much as everything else a
request-level simulation does for a request — while ``rng.random(k)`` costs a few
hundredths of that per value. :class:`BlockUniforms` hands out, one at a time, exactly
the doubles that successive ``rng.random()`` calls would return, drawing them k at a
time (:attr:`BlockUniforms.random` is a C-level callable, no Python frame per double).
:meth:`BlockUniforms.release` winds the generator back to just after the last
double handed out (``bit_generator.advance``, which the PCG64 family has and which
counts one step per double), so whoever draws from the generator next gets the numbers
it would have got had nothing been drawn ahead: results do not depend on the blocks.

Generators that cannot be wound back (MT19937, SFC64, Philox, whose ``advance`` counts
blocks of four) are never drawn ahead. A draw from the generator by someone else while
values are held (a policy sharing the engine's generator) is detected at release: the
generator is then left where it is, so no number is ever handed out twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import chain
from operator import length_hint
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

    __slots__ = ("random", "_rng", "_rewindable", "_current", "_drawn", "_start", "_end",
                 "_block", "_max_block")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        bit_generator = rng.bit_generator
        self._rewindable = bit_generator if isinstance(bit_generator, REWINDABLE) else None
        self._current: Iterator[float] = iter(())
        """The block being handed out: an iterator over the doubles not yet handed out."""
        self._drawn = 0
        """Size of that block."""
        self._start: Any = None
        """Generator state before that block; ``_end`` after it."""
        self._end: Any = None
        self._max_block = MAX_BLOCK if self._rewindable is not None else 1
        self._block = min(FIRST_BLOCK, self._max_block)
        self.random: Callable[[], float] = chain.from_iterable(self._blocks()).__next__
        """The next double of the generator's ``random()`` sequence.

        A C-level call (the next item of the current block, the next block from
        :meth:`_blocks` once it runs out): routers call it once per request, and a
        Python method would cost as much again as the rest of a random router."""

    def release(self) -> None:
        """Give back the doubles drawn ahead: the generator continues after the last one
        handed out (unless someone else drew from it meanwhile; see the module doc)."""
        left, bit_generator = length_hint(self._current), self._rewindable
        if not left:
            return
        assert bit_generator is not None  # others never hold a value after a draw
        if bit_generator.state == self._end:
            bit_generator.state = self._start
            bit_generator.advance(self._drawn - left)
        deque(self._current, maxlen=0)  # used up: the next draw starts a fresh block
        self._block = min(FIRST_BLOCK, self._max_block)

    def ahead(self, count: int) -> np.ndarray:
        """The sequence's next ``count`` doubles in one call (the generator moves past
        them): those ``count`` calls of :attr:`random` would give, after a release."""
        self.release()
        return self._rng.random(count)

    def _blocks(self) -> Iterator[Iterator[float]]:
        """Fresh blocks from the generator, recording where each starts and ends."""
        bit_generator = self._rewindable
        while True:
            k = self._block
            if bit_generator is not None:
                self._start = bit_generator.state
            self._current = block = iter(self._rng.random(k).tolist())
            if bit_generator is not None:
                self._end = bit_generator.state
            self._drawn = k
            self._block = min(2 * k, self._max_block)
            yield block
