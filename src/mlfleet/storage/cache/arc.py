"""Adaptive Replacement Cache (ARC): scan-resistant, self-tuning between recency and frequency.

Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003, Fig. 4.
The cache holds ``T1`` (seen once recently) and ``T2`` (seen at least twice); the ghost lists
``B1`` and ``B2`` remember the keys recently evicted from each, and a hit on a ghost moves the
target size ``p`` of ``T1`` towards the list that would have hit. A one-pass scan only churns
``T1``, so the frequently used blocks in ``T2`` survive it.
"""

from __future__ import annotations

from collections import OrderedDict

_List = OrderedDict[int, None]


class ArcCache:
    """ARC with the four LRU lists of the paper as insertion-ordered dicts (front = LRU)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.p = 0.0
        """Target size of T1 (the paper's p), adapted on ghost hits."""
        self.t1: _List = OrderedDict()
        self.t2: _List = OrderedDict()
        self.b1: _List = OrderedDict()
        self.b2: _List = OrderedDict()

    def access(self, item: int) -> bool:
        """One request of Fig. 4: True on a hit in T1 or T2."""
        if item in self.t1 or item in self.t2:  # case I
            (self.t1 if item in self.t1 else self.t2).pop(item)
            self.t2[item] = None
            return True
        if item in self.b1:  # case II
            self.p = min(self.p + max(1.0, len(self.b2) / len(self.b1)), self.capacity)
            self._replace(in_b2=False)
            del self.b1[item]
            self.t2[item] = None
        elif item in self.b2:  # case III
            self.p = max(self.p - max(1.0, len(self.b1) / len(self.b2)), 0.0)
            self._replace(in_b2=True)
            del self.b2[item]
            self.t2[item] = None
        else:
            self._admit_new()
            self.t1[item] = None
        return False

    def _admit_new(self) -> None:
        """Case IV: make room for a key in none of the four lists."""
        c = self.capacity
        if len(self.t1) + len(self.b1) == c:  # case A
            if len(self.t1) < c:
                self.b1.popitem(last=False)
                self._replace(in_b2=False)
            else:
                self.t1.popitem(last=False)
            return
        total = len(self.t1) + len(self.t2) + len(self.b1) + len(self.b2)  # case B
        if total >= c:
            if total == 2 * c:
                self.b2.popitem(last=False)
            self._replace(in_b2=False)

    def _replace(self, *, in_b2: bool) -> None:
        """REPLACE: demote the LRU of T1 to B1 if T1 exceeds its target, else T2's to B2."""
        t1 = len(self.t1)
        # `not self.t2` never holds when the cache is full (the paper's invariant); it guards it.
        if t1 >= 1 and ((in_b2 and t1 == self.p) or t1 > self.p or not self.t2):
            key, _ = self.t1.popitem(last=False)
            self.b1[key] = None
        else:
            key, _ = self.t2.popitem(last=False)
            self.b2[key] = None

    def __contains__(self, item: int) -> bool:
        return item in self.t1 or item in self.t2

    def __len__(self) -> int:
        return len(self.t1) + len(self.t2)
