"""Sequential read-ahead: after block ``i`` is read, fetch ``i+1 .. i+depth`` ahead of need.

The prefetcher sees only block ids, as a file system's read-ahead sees only offsets: it pays
off on sequential epochs and wastes slow-tier bandwidth on a shuffled order (every fetched
block not read before eviction is counted as wasted by :mod:`mlfleet.storage.cache.tier_sim`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class SequentialReadAhead:
    """Read-ahead of a fixed depth over blocks ``0 .. blocks-1`` (no wrap-around)."""

    depth: int
    """Blocks fetched ahead of the one just read; 0 turns prefetching off."""
    blocks: int
    """Blocks in the dataset: read-ahead stops at the last one."""

    def ahead(self, block: int) -> range:
        """The blocks to have in flight or cached after ``block`` is read."""
        return range(block + 1, min(block + 1 + self.depth, self.blocks))
