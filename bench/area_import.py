"""Area import benchmark: ``python bench/area_import.py [--backends sqlite,postgresql] [--smoke]``.

Target (issue 14): a city file of 2,000 grids imports in under 10 s, dry run and real, on SQLite and
PostgreSQL. The file is the demo city's area tree (``demo.build.plan``: city, districts, streets,
communities and ~2,000 irregular grids; a few MB of GeoJSON) written as a file would be, then imported
with ``importer.import_areas`` into an empty migrated database — a SQLite file in a temporary directory and
a scratch PostgreSQL database on postgresql://postgres@127.0.0.1:5432 (``SHIYU_BENCH_POSTGRES``), dropped
afterwards. Workloads, each timed from the file's bytes to the committed transaction:

- dry run: parse and validate everything (codes, parents, containment, sibling overlaps, coverage);
- import: the same, then write every area with its approved boundary version;
- dry run of the same city as a city has it: Chinese property names through a field mapping, coordinates
  in GCJ-02 converted back, and ``clip_to_parent``.

Prints a table (wall and CPU seconds, and the load average: on a shared machine the wall clock counts
other people's work too); asserts nothing about time. ``--smoke``: the 40-grid city, SQLite only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shiyu.domains  # noqa: E402,F401
from bench.common import SMOKE_HELP, print_table, scratch_postgres  # noqa: E402
from shiyu.core import migrate  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory, transaction  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.demo.build import plan  # noqa: E402
from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE  # noqa: E402
from shiyu.org.areas import crs, importer  # noqa: E402
from shiyu.org.areas.models import LEVEL_LABELS  # noqa: E402

SYSTEM = Principal.system("bench")
CHINESE = {"code": "网格编码", "name": "网格名称", "level": "层级", "parent_code": "上级编码",
           "population": "人口", "households": "户数"}
MAPPING = ",".join(f"{zh}={en}" for en, zh in CHINESE.items())


def city_file(small: bool) -> tuple[dict[str, Any], int]:
    """The demo city as a FeatureCollection in our format, and its number of grids."""
    city = plan(size=SMALL_SIZE if small else FULL_SIZE)
    features = []
    for node in city.walk():
        parent = node.parent.code if node.parent is not None else None
        features.append({"type": "Feature", "geometry": node.geometry, "properties": {
            "code": node.code, "name": node.name, "level": LEVEL_LABELS[node.level][1], "parent_code": parent,
            "population": node.population, "households": node.households}})
    return {"type": "FeatureCollection", "features": features}, sum(1 for n in city.walk() if n.level == 4)


def as_a_city_has_it(collection: dict[str, Any]) -> dict[str, Any]:
    """Chinese property names and GCJ-02 coordinates (the forward transform applied to every point)."""
    def to_gcj(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(crs.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    geoms = shapely.transform(np.asarray([shapely.geometry.shape(f["geometry"]) for f in collection["features"]]),
                              to_gcj)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g),
         "properties": {CHINESE[k]: v for k, v in f["properties"].items()}}
        for f, g in zip(collection["features"], geoms, strict=True)]}


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="shiyu-bench-") as tmp:
            yield f"sqlite:///{tmp}/areas.db"
    else:
        with scratch_postgres("areas") as url:
            yield url


def timed(url: str, data: bytes, dry_run: bool, options: importer.ImportOptions
          ) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, this process's CPU seconds, report): on a shared machine the CPU time says what the
    import costs when the wall clock also counts other people's work (PostgreSQL's own work is not in it)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        with transaction(factory, principal=SYSTEM) as session:
            report = importer.import_areas(session, SYSTEM, data, dry_run=dry_run, options=options).to_dict()
        return time.perf_counter() - started, time.process_time() - cpu, report
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    backends = ["sqlite"] if args.smoke else [b.strip() for b in args.backends.split(",") if b.strip()]
    collection, grids = city_file(args.smoke)
    plain = json.dumps(collection, ensure_ascii=False).encode()
    local = json.dumps(as_a_city_has_it(collection), ensure_ascii=False).encode()
    size = f"{grids} grids, {len(collection['features'])} features"
    workloads = [
        ("dry run", plain, True, importer.ImportOptions()),
        ("import (written)", plain, False, importer.ImportOptions()),
        ("dry run, 中文字段 + GCJ-02 + clip", local, True,
         importer.ImportOptions.parse("gcj02", MAPPING, clip_to_parent=True)),
    ]
    rows = []
    for backend in backends:
        for name, data, dry_run, options in workloads:
            with database(backend) as url:
                migrate.upgrade(url)
                seconds, cpu, report = timed(url, data, dry_run, options)
            if not report["valid"]:
                raise SystemExit(f"{name} on {backend}: the file did not validate: {report['summary']}")
            rows.append((f"{name} ({backend})", f"{size}, {len(data) / 1e6:.1f} MB", f"{seconds:.2f}",
                         f"{cpu:.2f}"))
    print_table(rows, ("workload", "size", "seconds", "cpu seconds"))
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
