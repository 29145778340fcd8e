"""Point → grid lookup benchmark: ``python bench/grid_lookup.py [--database-url URL] [--points N]``.

Loads the current approved grids (default: the demo city of ``make run``); when that database has no
grids, builds a synthetic ~2,000-grid Voronoi city in memory and says so. Prints a table; asserts nothing
about time. The naive reference tests every polygon for every point (``intersects``, first by code wins —
the index's rule for points on shared edges) and runs on a sample in the same process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point
from sqlalchemy import inspect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SMOKE_HELP  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.org.areas.lookup import AreaRef, GridIndex, GridRecord, load_index  # noqa: E402

SEED = 20240601


def synthetic_city(n: int = 2000, seed: int = SEED) -> list[GridRecord]:
    """Voronoi cells of ``n`` random seeds inside a wobbly round outline (~50 km across)."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    radius = 0.25 * (1 + 0.15 * np.sin(5 * angles) + 0.05 * rng.standard_normal(len(angles)))
    outline = shapely.Polygon(np.column_stack([118.1 + radius * np.cos(angles), 24.5 + radius * np.sin(angles)]))
    outline = outline if outline.is_valid else Point(118.1, 24.5).buffer(0.25)
    minx, miny, maxx, maxy = outline.bounds
    x, y = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
    keep = shapely.contains_xy(outline, x, y)
    seeds = shapely.multipoints(np.column_stack([x[keep], y[keep]])[:n])
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline.envelope)),
                                 outline)
    return [GridRecord(AreaRef(i + 1, f"359901001{i // 10:03d}{i % 10 + 1:03d}", f"网格{i + 1}", 4), "/", g, ())
            for i, g in enumerate(c for c in cells if not c.is_empty)]


def load(url: str) -> tuple[GridIndex | None, str]:
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1]).exists():
        return None, f"{url} does not exist"
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("area"):
            return None, f"{url} has no area table"
        with make_session_factory(engine)() as session:
            session.info["principal"] = Principal.system("bench")
            index = load_index(session)
        return (index, url) if len(index) else (None, f"{url} has no grids")
    finally:
        engine.dispose()


def naive(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(len(x), -1)
    for i in range(len(x)):
        for g, geom in enumerate(geoms):
            if shapely.intersects_xy(geom, x[i], y[i]):
                out[i] = g
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///var/shiyu.db")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=100_000, help="single lookups to time")
    parser.add_argument("--sample", type=int, default=300, help="points for the naive loop and the check")
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic city, not a database's grids")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + " (here: the synthetic city)")
    args = parser.parse_args()
    if args.smoke:
        args.points, args.single, args.sample = 20_000, 2_000, 30
        args.synthetic = args.synthetic or args.database_url == parser.get_default("database_url")

    started = time.perf_counter()
    index, source = (None, "--synthetic") if args.synthetic else load(args.database_url)
    if index is None:
        print(f"{source}: using a synthetic ~2,000-grid Voronoi city in memory instead")
        records = synthetic_city()
        started = time.perf_counter()
        index = GridIndex(records)
        source = "synthetic Voronoi city"
    build = time.perf_counter() - started

    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geoms)
    x, y = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)

    t = time.perf_counter()
    batch = index.positions(x, y)
    batch_rate = args.points / (time.perf_counter() - t)

    xs, ys = x[: args.single].tolist(), y[: args.single].tolist()
    position = index.position
    t = time.perf_counter()
    for a, b in zip(xs, ys, strict=True):
        position(a, b)
    single_us = (time.perf_counter() - t) / len(xs) * 1e6

    plain = np.array([shapely.from_wkb(shapely.to_wkb(g)) for g in index.geoms], dtype=object)
    sx, sy = x[: args.sample], y[: args.sample]
    t = time.perf_counter()
    expected = naive(plain, sx, sy)
    naive_rate = args.sample / (time.perf_counter() - t)
    singles = np.array([index.position(a, b) for a, b in zip(sx.tolist(), sy.tolist(), strict=True)])
    agree = int(((batch[: args.sample] == expected) & (singles == expected)).sum())

    rows = [
        ("workload", "size", "figure", "comparison"),
        ("build index", f"{len(index):,} grids, {index.nx}×{index.ny} cells",
         f"{build * 1000:,.0f} ms" + (" (with DB read)" if source == args.database_url else ""),
         f"{index.boundary_share:.1%} boundary cells"),
        ("batch lookup", f"{args.points:,} points", f"{batch_rate:,.0f} points/s",
         f"target ≥ 1,000,000/s; {batch_rate / naive_rate:,.0f}× naive"),
        ("single lookup", f"{len(xs):,} calls", f"{single_us:.2f} µs/point", "target < 20 µs"),
        ("naive loop, every polygon", f"{args.sample:,} points", f"{naive_rate:,.0f} points/s", "baseline"),
        ("correctness vs naive", f"{args.sample:,} points", f"{agree:,}/{args.sample:,} equal",
         "batch and single"),
    ]
    print(f"source: {source}; points drawn in the grids' bounds, seed {SEED}; "
          f"{(batch < 0).mean():.1%} fall outside every grid")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for n, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if agree != args.sample:
        sys.exit("indexed answers differ from the naive answers")


if __name__ == "__main__":
    main()
