"""Why an ensemble is one alias: mixed reads under concurrent readers, ours vs per-member aliases.

Run: ``.venv/bin/python benchmarks/bench_registry.py [--readers 8] [--flips 24]``. Not a test.
One real MLflow registry on SQLite (WAL) holds the bundled 12-model ensemble in four
versions, each differing in three members. Two designs, each with READERS spawned reader
processes reading in a loop while the writer flips production FLIPS times:

* ``ensemble``: ours. The writer moves one alias (``mlfleet.ops.registry.promote``); a reader
  resolves it and reads the pinned manifest (``consistency.reader_loop``);
* ``per-member``: the design without ensembles. Each member model has its own ``production``
  alias; the writer moves the three that change with ``MlflowClient.set_registered_model_alias``
  one after another, and a reader reads all twelve aliases one after another.

A read is *mixed* if the member versions it got are not exactly one promoted version's.
Prints reads, flips, mixed reads and the median seconds per flip and per read. The test
(``tests/ops/registry/test_concurrency.py``) asserts zero mixed reads for ours; the
per-member count shows what that criterion rules out (it depends on timing: not a test).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from mlfleet.ops.registry.consistency import reader_loop
from mlfleet.ops.registry.ensemble import Manifest, create_version, load_spec, with_member
from mlfleet.ops.registry.model_file import EXAMPLES, load_cards
from mlfleet.ops.registry.promote import promote
from mlfleet.ops.registry.store import RegistryStore

E = "recsys"
CHANGED = ("ranker-dnn", "ranker-mtl", "score-blender")


def _build(path: Path) -> list[Manifest]:
    with RegistryStore(path, create=True) as store:
        for card in load_cards(EXAMPLES / "recsys-models.yaml"):
            store.register(card)
        made = [create_version(store, E, load_spec(EXAMPLES / "recsys-12.yaml"))]
        for step in range(3):
            spec = made[-1].spec
            for name in CHANGED:
                card = store.card(name, 1)
                new = store.register(dataclasses.replace(card,
                                                         source_uri=f"{card.source_uri}-{step}"))
                spec = with_member(spec, name, new.version)
            made.append(create_version(store, E, spec))
        promote(store, E, made[0].version, who="bench", why="start")
        for name, version in made[0].members().items():
            store.client.set_registered_model_alias(name, "production", str(version))
    return made


def _per_member_reader(path: str, names: list[str], combos: list[dict[str, int]],
                       started: Any, stop: Event, results: Any) -> None:
    with RegistryStore(Path(path), create=False) as store:
        reads = mixed = 0
        while not stop.is_set() or reads == 0:
            got = {n: int(store.client.get_model_version_by_alias(n, "production").version)
                   for n in names}
            reads += 1
            mixed += got not in combos
            if reads == 1:
                started.put(True)
    results.put((reads, mixed))


def _run(design: str, path: Path, made: list[Manifest], readers: int,
         flips: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    stop, started, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    if design == "ensemble":
        args: tuple[Any, ...] = (str(path), E, {m.version: m.to_json() for m in made})
        target: Any = reader_loop
    else:
        args = (str(path), list(made[0].members()), [m.members() for m in made])
        target = _per_member_reader
    procs = [ctx.Process(target=target, args=(*args, started, stop, results), daemon=True)
             for _ in range(readers)]
    for proc in procs:
        proc.start()
    for _ in procs:
        started.get(timeout=300)
    t0 = time.perf_counter()
    flip_s = _flip_all(design, path, made, flips)
    stop.set()
    wall_s = time.perf_counter() - t0
    got = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    if design == "ensemble":
        reads, mixed = sum(c.reads for c in got), sum(c.mixed + c.failed for c in got)
    else:
        reads, mixed = sum(r for r, _ in got), sum(m for _, m in got)
    return {"reads": reads, "mixed": mixed, "flips": flips,
            "flip_s_median": statistics.median(flip_s), "read_s": wall_s * readers / reads}


def _flip_all(design: str, path: Path, made: list[Manifest], flips: int) -> list[float]:
    took = []
    with RegistryStore(path, create=False) as store:
        for i in range(flips):
            target = made[(i + 1) % len(made)]
            t0 = time.perf_counter()
            if design == "ensemble":
                promote(store, E, target.version, who="bench", why=f"flip {i}")
            else:
                for name in CHANGED:
                    store.client.set_registered_model_alias(
                        name, "production", str(target.members()[name]))
            took.append(time.perf_counter() - t0)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--flips", type=int, default=24)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        print(f"{'design':<11}{'readers':>8}{'reads':>8}{'flips':>7}{'mixed':>7}"
              f"{'s/flip':>9}{'s/read':>9}")
        for design in ("ensemble", "per-member"):
            path = Path(tmp) / f"{design}.db"
            made = _build(path)
            row = _run(design, path, made, opts.readers, opts.flips)
            print(f"{design:<11}{opts.readers:>8}{row['reads']:>8.0f}{row['flips']:>7.0f}"
                  f"{row['mixed']:>7.0f}{row['flip_s_median']:>9.3f}{row['read_s']:>9.4f}")


if __name__ == "__main__":
    main()
