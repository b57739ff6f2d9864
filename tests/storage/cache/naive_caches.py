"""Naive reference caches: plain lists, written for obviousness, not speed."""

from __future__ import annotations


def lru(trace: list[int], capacity: int) -> list[bool]:
    """LRU: the list's front is the least recently used block."""
    cache: list[int] = []
    hits = []
    for item in trace:
        hit = item in cache
        if hit:
            cache.remove(item)
        elif len(cache) == capacity:
            cache.pop(0)
        cache.append(item)
        hits.append(hit)
    return hits


def lfu(trace: list[int], capacity: int) -> list[bool]:
    """Perfect LFU: evict the cached block with the least (count ever, last access time)."""
    counts: dict[int, int] = {}
    last: dict[int, int] = {}
    cache: set[int] = set()
    hits = []
    for t, item in enumerate(trace):
        counts[item] = counts.get(item, 0) + 1
        hit = item in cache
        if not hit and len(cache) == capacity:
            cache.remove(min(cache, key=lambda b: (counts[b], last[b])))
        cache.add(item)
        last[item] = t
        hits.append(hit)
    return hits


def arc(trace: list[int], c: int) -> list[bool]:
    """ARC transcribed line by line from Megiddo & Modha (FAST 2003), Fig. 4."""
    t1: list[int] = []
    t2: list[int] = []
    b1: list[int] = []
    b2: list[int] = []
    p = 0.0
    hits = []

    def replace(x_in_b2: bool) -> None:
        if t1 and ((x_in_b2 and len(t1) == p) or len(t1) > p):
            b1.append(t1.pop(0))
        else:
            b2.append(t2.pop(0))

    for x in trace:
        if x in t1 or x in t2:
            (t1 if x in t1 else t2).remove(x)
            t2.append(x)
            hits.append(True)
            continue
        hits.append(False)
        if x in b1:
            p = min(p + (1 if len(b1) >= len(b2) else len(b2) / len(b1)), c)
            replace(False)
            b1.remove(x)
            t2.append(x)
        elif x in b2:
            p = max(p - (1 if len(b2) >= len(b1) else len(b1) / len(b2)), 0)
            replace(True)
            b2.remove(x)
            t2.append(x)
        else:
            if len(t1) + len(b1) == c:
                if len(t1) < c:
                    b1.pop(0)
                    replace(False)
                else:
                    t1.pop(0)
            elif len(t1) + len(t2) + len(b1) + len(b2) >= c:
                if len(t1) + len(t2) + len(b1) + len(b2) == 2 * c:
                    b2.pop(0)
                replace(False)
            t1.append(x)
    return hits
