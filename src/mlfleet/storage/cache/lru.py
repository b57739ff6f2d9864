"""Least recently used: evict the block whose last access is oldest."""

from __future__ import annotations

from collections import OrderedDict


class LruCache:
    """LRU over an insertion-ordered dict: the front is the least recently used block."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._order: OrderedDict[int, None] = OrderedDict()

    def access(self, item: int) -> bool:
        """True on a hit (the block moves to the most-recent end); on a miss admit it."""
        order = self._order
        if item in order:
            order.move_to_end(item)
            return True
        if len(order) >= self.capacity:
            order.popitem(last=False)
        order[item] = None
        return False

    def __contains__(self, item: int) -> bool:
        return item in self._order

    def __len__(self) -> int:
        return len(self._order)
