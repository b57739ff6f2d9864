"""``mlfleet sim cache``: replay a trace through caches (and optionally two tiers).

Each policy x size replays the same seeded trace. For an independent-reference (zipf) trace
the steady-state hit rate (after the first 20 % of accesses) is printed next to its closed
form, Che's approximation for LRU and the static top-C for LFU, with the relative error.
``--tiers FAST,SLOW`` (catalog media, e.g. ``nvme,s3``) also runs the tier simulation:
run time, client stall, slow-tier traffic and GET charges, with ``--prefetch`` read-ahead.
A progress bar goes to stderr on a terminal (never with ``--json``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import click

from mlfleet import units
from mlfleet.storage.cache import POLICY_NAMES, CacheInputError, policy, replay
from mlfleet.storage.cache.che import lru_hit_rate, top_c_hit_rate
from mlfleet.storage.cache.traces import Trace, parse

WARMUP_FRACTION = 0.2
"""Share of the trace left out of the steady-state hit rate."""


@dataclass(frozen=True, kw_only=True)
class CacheRow:
    """One policy at one size on the trace."""

    policy: str
    cache_blocks: int
    hit_rate: float
    steady_hit_rate: float
    closed_form_hit_rate: float | None
    closed_form: str
    bytes_saved: float
    tier: dict[str, Any] | None


def parse_sizes(text: str, distinct: int) -> list[int]:
    """``1%,10%,5000`` -> block counts (a percentage of the trace's distinct blocks)."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            value = float(part[:-1]) / 100 * distinct if part.endswith("%") else float(part)
        except ValueError:
            raise CacheInputError(f"--size(={part!r}) must be a block count or a percentage, "
                                  "e.g. 1% or 5000") from None
        if not value >= 1:
            raise CacheInputError(f"--size(={part!r}) must come to at least 1 block "
                                  f"(the trace has {distinct} distinct blocks)")
        out.append(int(value))
    if not out:
        raise CacheInputError(f"--size(={text!r}) names no size")
    return out


def _policies(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    for name in names or [text]:
        if name not in POLICY_NAMES:
            raise CacheInputError(f"--policy(={name!r}) must be one of {', '.join(POLICY_NAMES)}")
    return names


def _closed_form(trace: Trace, name: str, size: int) -> tuple[float | None, str]:
    if trace.popularity is None or name == "arc":
        return None, ""
    if name == "lru":
        return lru_hit_rate(trace.popularity, size), "Che (IRM)"
    return top_c_hit_rate(trace.popularity, size), "static top-C (IRM)"


def _row(trace: Trace, name: str, size: int, *, block_bytes: float,
         tier: Callable[[str, int], dict[str, Any]] | None) -> CacheRow:
    hits = replay(policy(name, size), trace.blocks)
    warm = int(len(hits) * WARMUP_FRACTION)
    closed, which = _closed_form(trace, name, size)
    return CacheRow(policy=name, cache_blocks=size, hit_rate=float(hits.mean()),
                    steady_hit_rate=float(hits[warm:].mean()), closed_form_hit_rate=closed,
                    closed_form=which, bytes_saved=float(hits.sum()) * block_bytes,
                    tier=None if tier is None else tier(name, size))


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    if not enabled or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replaying", total=total)
        yield lambda: bar.update(task, advance=1)


def _tier_runner(tiers: str, trace: Trace, *, block_bytes: float, prefetch: int,
                 compute_s: float) -> Callable[[str, int], dict[str, Any]]:
    from mlfleet.catalog.types import StorageMedium
    from mlfleet.storage.cache.tier_sim import TierLink, TierSimConfig, simulate

    names = [t.strip() for t in tiers.split(",")]
    if len(names) != 2:
        raise CacheInputError(f"--tiers(={tiers!r}) must name two catalog media, FAST,SLOW")
    links = []
    for name in names:
        medium = StorageMedium.from_name(name)
        from mlfleet import catalog

        price = float(catalog.get(name, kind="storage").get("get_request_usd", 0.0))
        links.append(TierLink(latency_s=medium.latency_s, usd_per_request=price,
                              bw_bytes_per_s=medium.read_bw_bytes_per_s))

    def run(name: str, size: int) -> dict[str, Any]:
        config = TierSimConfig(fast=links[0], slow=links[1], cache_policy=name, cache_blocks=size,
                               block_bytes=block_bytes, compute_s_per_block=compute_s,
                               prefetch_depth=prefetch)
        return asdict(simulate(config, trace.blocks))

    return run


@click.command("cache")
@click.option("--trace", "spec", default="zipf:alpha=0.9,items=1e5,accesses=1e6",
              show_default=True, help="sequential|shuffle|zipf|checkpoint[:key=value,...].")
@click.option("--policy", "policies", default="lru,lfu,arc", show_default=True,
              help="Comma list of cache policies.")
@click.option("--size", "sizes", default="1%,10%", show_default=True,
              help="Cache sizes: blocks, or a percentage of the trace's distinct blocks.")
@click.option("--block-size", default="1MB", show_default=True, help="Bytes per block.")
@click.option("--tiers", default=None, help="FAST,SLOW catalog media: also simulate the tiers.")
@click.option("--prefetch", default=0, show_default=True, type=click.IntRange(0, 1024),
              help="With --tiers: sequential read-ahead depth in blocks.")
@click.option("--compute", default="1ms", show_default=True,
              help="With --tiers: client compute per block.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def cache_command(spec: str, policies: str, sizes: str, block_size: str, tiers: str | None,
                  prefetch: int, compute: str, seed: int, as_json: bool) -> None:
    """Replay an access trace through caches: hit rate, closed form, bandwidth saved."""
    names = _policies(policies)
    block_bytes = units.parse_quantity(block_size, "bytes")
    if not block_bytes > 0:
        raise CacheInputError(f"--block-size(={block_size!r}) must be > 0 bytes")
    compute_s = units.parse_quantity(compute, "s")
    if not compute_s >= 0:
        raise CacheInputError(f"--compute(={compute!r}) must be >= 0 s")
    trace = parse(spec, seed=seed)
    size_list = parse_sizes(sizes, trace.distinct_blocks)
    tier = None if tiers is None else _tier_runner(tiers, trace, block_bytes=block_bytes,
                                                   prefetch=prefetch, compute_s=compute_s)
    rows = []
    with _progress(not as_json, len(names) * len(size_list)) as advance:
        for name in names:
            for size in size_list:
                rows.append(_row(trace, name, size, block_bytes=block_bytes, tier=tier))
                advance()
    _show(trace, rows, seed=seed, block_bytes=block_bytes, as_json=as_json)


def _show(trace: Trace, rows: list[CacheRow], *, seed: int, block_bytes: float,
          as_json: bool) -> None:
    if as_json:
        from mlfleet.cli import emit_json

        emit_json({"fidelity": "simulate", "trace": trace.spec, "seed": seed,
                   "accesses": len(trace.blocks), "distinct_blocks": trace.distinct_blocks,
                   "block_bytes": block_bytes, "warmup_fraction": WARMUP_FRACTION,
                   "rows": [asdict(r) for r in rows]})
        return
    from mlfleet.report.terminal import print_table

    print_table(["policy", "blocks", "hit rate", "steady", "closed form", "error", "saved"],
                [_cells(r) for r in rows],
                title=f"{trace.spec}: {len(trace.blocks):,} accesses, "
                      f"{trace.distinct_blocks:,} blocks (simulate)")
    tiered = [r for r in rows if r.tier is not None]
    if tiered:
        print_table(["policy", "blocks", "time", "stall", "slow-tier reads", "GET cost",
                     "wasted prefetch"],
                    [[r.policy, r.cache_blocks, units.format_duration(r.tier["time_s"]),
                      units.format_duration(r.tier["stall_s"]),
                      units.format_bytes(r.tier["slow_bytes"]), f"${r.tier['slow_request_usd']:.4g}",
                      r.tier["wasted_prefetches"]] for r in tiered if r.tier is not None],
                    title="tiers (simulate)")


def _cells(r: CacheRow) -> list[Any]:
    closed = "" if r.closed_form_hit_rate is None else \
        f"{r.closed_form_hit_rate:.4f} ({r.closed_form})"
    error = "" if r.closed_form_hit_rate is None else \
        f"{(r.steady_hit_rate - r.closed_form_hit_rate) / r.closed_form_hit_rate:+.2%}"
    return [r.policy, f"{r.cache_blocks:,}", f"{r.hit_rate:.4f}", f"{r.steady_hit_rate:.4f}",
            closed, error, units.format_bytes(r.bytes_saved)]
