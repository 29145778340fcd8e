"""The shape of the demo city: an irregular coastal outline cut into districts, streets, communities and
grids. Pure geometry (shapely 2 + numpy), no database, deterministic for a given seed.

How the tiling stays exact. Clipping each level's Voronoi cells against its parent separately computes
the same boundary crossing twice, once per neighbouring cell, and the two results may differ in the last
bit: hairline gaps and overlaps, and vertices that do not match across a parent's edge. So the tree is
planned top-down but drawn bottom-up:

1. Population points are drawn with a density that peaks downtown and at a few town centres.
2. The points are clustered (k-means) into districts, each district's points into streets, and so on
   down to grids, the count at each level shared out in proportion to population. So grids hold similar
   populations: small downtown, large in the countryside — like real ones.
3. The grid cluster centres are the seeds of one Voronoi diagram for the whole city. Its edges and the
   outline are noded together once, snapped to a 1e-6 degree grid (about 0.1 m), and polygonized: every
   face comes from one planar arrangement, so neighbours share exactly the same vertices.
4. Each level above is the coverage union of its children. A parent therefore equals the union of its
   children exactly, siblings never overlap, and all grids of the city form one valid coverage.

A union that falls apart (a Voronoi cell cut in two by the coast, or a cluster whose cells do not touch)
is repaired by handing each detached piece to the neighbour it shares the longest border with,
preferring a neighbour under the same parent. Coastal slivers are merged into a neighbouring grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import shapely
from shapely import MultiPoint, Polygon

CENTRE = (118.2, 24.55)  # lon, lat: a fictional city on the south-east coast
DOWNTOWN = (118.13, 24.50)
SNAP = 1e-6  # degrees; every coordinate is a multiple of it (6 decimals)
POINTS_PER_GRID = 24
SLIVER = 0.12  # a grid smaller than this share of its seed's spacing squared is merged away
KMEANS_ROUNDS = 25


@dataclass(frozen=True)
class CitySize:
    """How many areas to aim for at each level (the tiling may end a few grids short after merging
    coastal slivers)."""

    districts: int = 6
    streets: int = 40
    communities: int = 300
    grids: int = 2000

    def __post_init__(self) -> None:
        if not 1 <= self.districts <= self.streets <= self.communities <= self.grids:
            raise ValueError("need 1 <= districts <= streets <= communities <= grids")


FULL_SIZE = CitySize()
SMALL_SIZE = CitySize(districts=2, streets=4, communities=8, grids=40)


@dataclass
class Cell:
    """One area of the generated tree. ``density`` is the relative population density (1 = countryside),
    which the builder uses to tell 街道/社区 from 镇/村."""

    geometry: Polygon
    density: float
    children: list[Cell] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Cell]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def level(self, depth: int) -> list[Cell]:
        return [c for d, c in self.walk() if d == depth]


def generate(seed: int, size: CitySize = FULL_SIZE) -> Cell:
    """The city for ``seed``: root = city, then districts, streets, communities, grids, each level in
    code order (denser areas first, then north to south)."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    centres = _town_centres(rng, outline)
    pts = _population_points(rng, outline, centres, POINTS_PER_GRID * size.grids)
    district, street, community, grid = _nest(rng, pts, size)
    count = np.bincount(grid)
    seeds = np.column_stack([np.bincount(grid, weights=pts[:, i]) / count for i in (0, 1)])
    comm_of_grid = _lookup(grid, community)
    street_of_comm = _lookup(community, street)
    district_of_street = _lookup(street, district)

    faces, owner = _faces(outline, seeds)
    grids, comm_of_grid = _grid_polygons(faces, owner, _spacing(seeds), comm_of_grid)
    comms, street_of_comm, comm_of_grid = _unite(grids, comm_of_grid, street_of_comm)
    streets, district_of_street, street_of_comm = _unite(comms, street_of_comm, district_of_street)
    districts, _, district_of_street = _unite(streets, district_of_street, None)
    city = shapely.coverage_union_all(districts)
    if not isinstance(city, Polygon):
        raise RuntimeError(f"demo city outline fell apart for seed {seed}")

    def dens(poly: Polygon) -> float:
        p = poly.representative_point()
        return float(_density(np.array([[p.x, p.y]]), centres)[0])

    grid_cells = [Cell(g, dens(g)) for g in grids]
    comm_cells = _parents(comms, grid_cells, comm_of_grid)
    street_cells = _parents(streets, comm_cells, street_of_comm)
    district_cells = _parents(districts, street_cells, district_of_street)
    return Cell(city, float(np.mean([d.density for d in district_cells])), _ordered(district_cells))


def geojson(poly: Polygon) -> dict[str, Any]:
    """A GeoJSON Polygon with lists (not tuples), exterior counter-clockwise as RFC 7946 asks. Reorienting
    only reverses rings, so shared vertices stay identical."""
    oriented = shapely.orient_polygons(poly)
    rings = [oriented.exterior, *oriented.interiors]
    return {"type": "Polygon", "coordinates": [[[x, y] for x, y in ring.coords] for ring in rings]}


def _lookup(child: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Child label → parent label, from per-point labels where every child lies in one parent."""
    out = np.empty(int(child.max()) + 1, dtype=int)
    out[child] = parent
    return out


def _parents(polys: list[Polygon], children: list[Cell], parent_of: np.ndarray) -> list[Cell]:
    cells = []
    for k, poly in enumerate(polys):
        kids = _ordered([children[i] for i in np.flatnonzero(parent_of == k)])
        cells.append(Cell(poly, float(np.mean([c.density for c in kids])), kids))
    return cells


def _ordered(cells: list[Cell]) -> list[Cell]:
    """Code order: denser first in coarse density bands, then north to south, west to east."""

    def key(c: Cell) -> tuple[float, float, float]:
        p = c.geometry.representative_point()
        return (-round(math.log2(c.density), 0), -round(p.y, 3), round(p.x, 3))

    return sorted(cells, key=key)


# --- outline and population ------------------------------------------------------------------------


def _outline(rng: np.random.Generator) -> Polygon:
    """A star-shaped polygon (always simple) whose radius wobbles with a few random harmonics, about
    0.4° × 0.3° — lon 118.0–118.4, lat 24.4–24.7."""
    theta = np.linspace(0.0, 2 * math.pi, 240, endpoint=False)
    wobble = np.zeros_like(theta)
    for k in range(2, 9):
        wobble += rng.uniform(0.02, 0.12) / math.sqrt(k) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    factor = np.clip(1.0 + wobble, 0.65, 1.22)
    x = CENTRE[0] + 0.162 * factor * np.cos(theta)
    y = CENTRE[1] + 0.122 * factor * np.sin(theta)
    return Polygon(np.round(np.column_stack([x, y]), 6))


def _town_centres(rng: np.random.Generator, outline: Polygon) -> np.ndarray:
    """Downtown first, then three market towns inside the outline; rows are (lon, lat, peak, spread)."""
    rows = [(DOWNTOWN[0], DOWNTOWN[1], 7.0, 0.045)]
    while len(rows) < 4:
        x, y = rng.uniform(outline.bounds[:2], outline.bounds[2:])
        far = all(math.hypot(x - r[0], y - r[1]) > 0.09 for r in rows)
        if far and outline.contains(shapely.Point(x, y).buffer(0.02)):
            rows.append((x, y, 2.5, 0.02))
    return np.array(rows)


def _density(xy: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = (xy[:, None, 0] - centres[None, :, 0]) ** 2 + (xy[:, None, 1] - centres[None, :, 1]) ** 2
    density: np.ndarray = 1.0 + (centres[None, :, 2] * np.exp(-d2 / (2 * centres[None, :, 3] ** 2))).sum(axis=1)
    return density


def _population_points(rng: np.random.Generator, outline: Polygon, centres: np.ndarray, n: int) -> np.ndarray:
    """``n`` points inside the outline drawn with the population density (rejection sampling)."""
    lo, hi = np.array(outline.bounds[:2]), np.array(outline.bounds[2:])
    peak = 1.0 + centres[:, 2].sum()
    chunks: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = rng.uniform(lo, hi, size=(4 * n, 2))
        keep = shapely.contains_xy(outline, xy[:, 0], xy[:, 1])
        keep &= rng.uniform(0, peak, size=len(xy)) < _density(xy, centres)
        chunks.append(xy[keep])
        have += int(keep.sum())
    return np.concatenate(chunks)[:n]


# --- nested clustering -----------------------------------------------------------------------------


def _kmeans(rng: np.random.Generator, xy: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k'-1 (k' <= k, no empty cluster) from k-means++ seeding and Lloyd rounds."""
    k = min(k, len(xy))
    centres = [xy[rng.integers(len(xy))]]
    d2 = ((xy - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = xy[rng.choice(len(xy), p=d2 / d2.sum())] if d2.sum() > 0 else xy[rng.integers(len(xy))]
        centres.append(nxt)
        d2 = np.minimum(d2, ((xy - nxt) ** 2).sum(axis=1))
    c = np.array(centres)
    labels = np.full(len(xy), -1)
    for _ in range(KMEANS_ROUNDS):
        new = ((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        count = np.bincount(labels, minlength=k)
        filled = count > 0
        for i in (0, 1):
            c[filled, i] = np.bincount(labels, weights=xy[:, i], minlength=k)[filled] / count[filled]
    return np.unique(labels, return_inverse=True)[1]


def _share(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), at least 1 each."""
    n = len(weights)
    raw = np.array(weights, dtype=float) / sum(weights) * (total - n)
    out = np.floor(raw).astype(int) + 1
    for i in np.argsort(-(raw - np.floor(raw)), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return [int(v) for v in out]


def _split(rng: np.random.Generator, xy: np.ndarray, parent: np.ndarray, total: int) -> np.ndarray:
    """Cluster the points of each parent group into children; ``total`` children shared out by
    population. Returns a global child label per point."""
    groups = [np.flatnonzero(parent == p) for p in range(parent.max() + 1)]
    counts = _share(total, [len(g) for g in groups])
    child = np.empty(len(xy), dtype=int)
    offset = 0
    for idx, k in zip(groups, counts, strict=True):
        labels = _kmeans(rng, xy[idx], k)
        child[idx] = labels + offset
        offset += labels.max() + 1
    return child


def _nest(rng: np.random.Generator, pts: np.ndarray, size: CitySize) -> tuple[np.ndarray, ...]:
    district = _kmeans(rng, pts, size.districts)
    street = _split(rng, pts, district, size.streets)
    community = _split(rng, pts, street, size.communities)
    grid = _split(rng, pts, community, size.grids)
    return district, street, community, grid


# --- tiling ----------------------------------------------------------------------------------------


def _faces(outline: Polygon, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The faces of the Voronoi edges noded with the outline (snap-rounded once), each with the index of
    the seed whose cell it lies in."""
    edges = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.envelope.buffer(0.05), only_edges=True)
    lines = shapely.union_all([edges, outline.boundary], grid_size=SNAP)
    faces = np.array(shapely.polygonize(shapely.get_parts(lines)).geoms)
    inner = shapely.point_on_surface(faces)
    keep = shapely.contains(outline, inner)
    tree = shapely.STRtree(shapely.points(seeds))
    owner = tree.query_nearest(inner[keep], all_matches=False)[1]
    return faces[keep], owner


def _spacing(seeds: np.ndarray) -> np.ndarray:
    """Distance from each seed to its nearest other seed."""
    tree = shapely.STRtree(shapely.points(seeds))
    pairs, dist = tree.query_nearest(shapely.points(seeds), exclusive=True, return_distance=True,
                                     all_matches=False)
    out = np.empty(len(seeds))
    out[pairs[0]] = dist
    return out


def _grid_polygons(
    faces: np.ndarray, owner: np.ndarray, spacing: np.ndarray, comm: np.ndarray
) -> tuple[list[Polygon], np.ndarray]:
    """One polygon per grid: detached pieces and slivers go to neighbours; empty grids are dropped."""
    owner = _connect(faces, owner.copy(), comm)
    polys = _unions(faces, owner, len(spacing))
    for g in np.argsort([p.area if p is not None else 0.0 for p in polys], kind="stable"):
        poly = polys[g]
        if poly is not None and poly.area < SLIVER * spacing[g] ** 2:
            target = _neighbour(faces, owner, poly, g, comm)
            if target is not None:
                owner[owner == g] = target
                polys[target] = shapely.coverage_union_all(faces[owner == target])
                polys[g] = None
    owner = _connect(faces, owner, comm)
    kept = sorted(set(owner.tolist()))
    remap = {g: i for i, g in enumerate(kept)}
    new_owner = np.array([remap[g] for g in owner])
    return _unions(faces, new_owner, len(kept)), comm[kept]


@overload
def _unite(
    parts: list[Polygon], parent_of: np.ndarray, grand_of: np.ndarray
) -> tuple[list[Polygon], np.ndarray, np.ndarray]: ...
@overload
def _unite(parts: list[Polygon], parent_of: np.ndarray, grand_of: None) -> tuple[list[Polygon], None, np.ndarray]: ...
def _unite(
    parts: list[Polygon], parent_of: np.ndarray, grand_of: np.ndarray | None
) -> tuple[list[Polygon], np.ndarray | None, np.ndarray]:
    """Parents as coverage unions of their parts, each one connected. Returns the parent polygons, the
    parent→grandparent map with empty parents dropped, and the part→parent map."""
    arr = np.array(parts)
    n = int(parent_of.max()) + 1
    group = grand_of if grand_of is not None else np.zeros(n, dtype=int)
    labels = _connect(arr, parent_of.copy(), group)
    kept = sorted(set(labels.tolist()))
    remap = {p: i for i, p in enumerate(kept)}
    labels = np.array([remap[p] for p in labels])
    return _unions(arr, labels, len(kept)), (grand_of[kept] if grand_of is not None else None), labels


def _unions(parts: np.ndarray, labels: np.ndarray, n: int) -> list[Any]:
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n + 1))
    out: list[Any] = []
    for k in range(n):
        members = parts[order[bounds[k] : bounds[k + 1]]]
        out.append(shapely.coverage_union_all(members) if len(members) else None)
    return out


def _connect(parts: np.ndarray, labels: np.ndarray, group: np.ndarray, rounds: int = 20) -> np.ndarray:
    """Relabel parts until every label's union is one polygon: each detached piece (all but the largest)
    goes to the neighbouring label with the longest shared border, preferring the same ``group``."""
    n = int(labels.max()) + 1
    inner = shapely.point_on_surface(parts)
    for _ in range(rounds):
        moved = False
        for k, union in enumerate(_unions(parts, labels, n)):
            if union is None or isinstance(union, Polygon):
                continue
            pieces = sorted(shapely.get_parts(union), key=lambda g: -g.area)
            for piece in pieces[1:]:
                members = np.flatnonzero((labels == k) & shapely.within(inner, piece))
                target = _neighbour(parts, labels, piece, k, group)
                if target is None:
                    raise RuntimeError("demo tiling: a piece touches no neighbour")
                labels[members] = target
                moved = True
        if not moved:
            return labels
    raise RuntimeError("demo tiling did not settle; try another seed")


def _neighbour(parts: np.ndarray, labels: np.ndarray, piece: Polygon, own: int, group: np.ndarray) -> int | None:
    """The label (other than ``own``) sharing the longest border with ``piece``; same group first."""
    tree = shapely.STRtree(parts)
    near = tree.query(piece, predicate="intersects")
    border: dict[int, float] = {}
    for i in near:
        lab = int(labels[i])
        if lab != own:
            shared = shapely.intersection(piece.boundary, parts[i].boundary).length
            border[lab] = border.get(lab, 0.0) + shared
    if not border:
        return None
    return max(border, key=lambda lab: (group[lab] == group[own], border[lab] > 0, border[lab], -lab))
