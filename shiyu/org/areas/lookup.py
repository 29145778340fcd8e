"""Point → grid lookup: an in-memory index of the current approved grid boundaries.

Layout: a uniform raster over the grids' bounds, about ``CELLS_PER_GRID`` cells per grid. Each cell is
- inside one grid entirely (the grid's position is stored: answered by one array read),
- outside every grid (``-1``), or
- a boundary cell (``-2 - b``) with a short, code-ordered candidate list in CSR arrays, answered by exact
  point-in-polygon tests on prepared geometries (``shapely.intersects_xy``, vectorised in batches).
Boundary cells are the cells each ring segment passes through (an exact supercover computed with numpy,
column by column), so no cell is tested against polygons one by one; every other cell is labelled by the
grid containing its centre, which is exact because no boundary crosses it.

A point on the edge shared by two grids is covered by both; the answer is the grid with the lowest code,
in single and batch lookups alike (the naive reference does the same).

Staleness across processes: ``generation()`` reads the ``area_generation`` counter (bumped in the same
transaction as every boundary approval and import) together with the area count and latest
``updated_at`` (a safety net for writes that bypass the services, such as fixtures). An index built at one
generation is reused until that tuple changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shiyu.core.db import rowcount
from shiyu.core.refcache import ReferenceCache
from shiyu.org.areas.models import Area, AreaGeneration, AreaLevel

CELLS_PER_GRID = 600
MIN_CELLS = 64 * 64
MAX_CELLS = 4096 * 4096
EDGE_SLACK = 1e-6
UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class AreaRef:
    id: int
    code: str
    name: str
    level: int


@dataclass(frozen=True)
class GridRecord:
    """One grid as the index knows it; ``chain`` runs grid, community, street, district, city."""

    ref: AreaRef
    area_path: str
    geometry: BaseGeometry
    chain: tuple[AreaRef, ...]


class GridIndex:
    def __init__(self, grids: Sequence[GridRecord], cells_per_grid: int = CELLS_PER_GRID) -> None:
        self.records = sorted(grids, key=lambda g: g.ref.code)
        self.ids = np.array([g.ref.id for g in self.records], dtype=np.int64)
        self.geoms = np.array([g.geometry for g in self.records], dtype=object)
        shapely.prepare(self.geoms)
        self._geom_list = list(self.geoms)
        # Each grid's bounds as four columns (x0, y0, x1, y1), for ``grid_ids_near``.
        self._bounds = shapely.bounds(self.geoms).T.copy() if len(self.records) else np.zeros((4, 0))
        self._raster(cells_per_grid)

    def __len__(self) -> int:
        return len(self.records)

    # -- lookups -------------------------------------------------------------------------------------

    def locate(self, lon: float, lat: float) -> GridRecord | None:
        pos = self.position(lon, lat)
        return self.records[pos] if pos >= 0 else None

    def position(self, lon: float, lat: float) -> int:
        """Position of the grid containing the point in ``records``, or -1."""
        fx = (lon - self.x0) * self.sx
        fy = (lat - self.y0) * self.sy
        if not (0.0 <= fx < self.nx and 0.0 <= fy < self.ny):
            return -1
        value = self._cells_mv[int(fy) * self.nx + int(fx)]
        if value > -2:
            return value
        b = -2 - value
        ptr, cand = self._ptr_mv, self._cand_mv
        for k in range(ptr[b], ptr[b + 1]):
            g = cand[k]
            if shapely.intersects_xy(self._geom_list[g], lon, lat):
                return g
        return -1

    def positions(self, lons: Any, lats: Any) -> np.ndarray:
        """Vectorised ``position`` for arrays of points."""
        x = np.asarray(lons, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
        fx = (x - self.x0) * self.sx
        fy = (y - self.y0) * self.sy
        ok = (fx >= 0.0) & (fx < self.nx) & (fy >= 0.0) & (fy < self.ny)
        out = np.full(x.shape, -1, dtype=np.int64)
        out[ok] = self.cells[fy[ok].astype(np.int64) * self.nx + fx[ok].astype(np.int64)]
        todo = np.flatnonzero(out <= -2)
        if len(todo):
            b = -2 - out[todo]
            start = self.cand_ptr[b]
            count = self.cand_ptr[b + 1] - start
            first = np.cumsum(count) - count
            owner = np.repeat(np.arange(len(todo)), count)
            cand = self.cand[start[owner] + np.arange(len(owner)) - first[owner]]
            hit = shapely.intersects_xy(self.geoms[cand], x[todo][owner], y[todo][owner])
            best = np.minimum.reduceat(np.where(hit, cand, len(self.records)), first)
            out[todo] = np.where(best == len(self.records), -1, best)
        return out

    def area_ids(self, lons: Any, lats: Any) -> np.ndarray:
        """Area ids of the grids containing the points, -1 where no grid does."""
        pos = self.positions(lons, lats)
        return np.where(pos >= 0, self.ids[np.maximum(pos, 0)], -1) if len(self.ids) else pos

    def grid_ids_near(self, lon0: float, lat0: float, lon1: float, lat1: float) -> list[int]:
        """Area ids of the grids whose bounds touch the box (edges included), in code order: every grid that
        may hold a point of the box — those the box touches and a few more whose bounds only do — for a search
        around a point that then keeps the points inside the box (duplicate finding's look-up). Compared as
        four array tests, not with shapely: building a box and testing it against polygons cost 7 % of the
        outbox delivery's CPU, once per reported case."""
        x0, y0, x1, y1 = self._bounds
        hits = np.flatnonzero((x0 <= lon1) & (x1 >= lon0) & (y0 <= lat1) & (y1 >= lat0))
        ids: list[int] = self.ids[hits].tolist()
        return ids

    # -- building ------------------------------------------------------------------------------------

    def _raster(self, cells_per_grid: int) -> None:
        n = len(self.records)
        if n == 0:
            self.x0 = self.y0 = self.sx = self.sy = 0.0
            self.nx = self.ny = 0
            self.cells = np.zeros(0, dtype=np.int32)
            self.cand_ptr = np.zeros(1, dtype=np.int64)
            self.cand = np.zeros(0, dtype=np.int32)
            self._views()
            return
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        pad = 1e-9 * max(maxx - minx, maxy - miny, 1e-6)
        self.x0, self.y0 = minx - pad, miny - pad
        width, height = maxx - minx + 2 * pad, maxy - miny + 2 * pad
        target = min(MAX_CELLS, max(MIN_CELLS, n * cells_per_grid))
        side = math.sqrt(width * height / target)
        self.nx, self.ny = max(1, math.ceil(width / side)), max(1, math.ceil(height / side))
        self.dx, self.dy = width / self.nx, height / self.ny
        self.sx, self.sy = self.nx / width, self.ny / height
        cells = self._label_centres()
        self._classify(cells, self._boundary_pairs())
        self._views()

    def _label_centres(self) -> np.ndarray:
        """Each cell gets the grid containing its centre (lowest code wins on a shared edge)."""
        cells = np.full((self.ny, self.nx), -1, dtype=np.int32)
        bounds = shapely.bounds(self.geoms)
        for g in range(len(self.records) - 1, -1, -1):
            x_lo, y_lo, x_hi, y_hi = bounds[g]
            i0, i1 = self._span(x_lo, x_hi, self.x0, self.sx, self.nx)
            j0, j1 = self._span(y_lo, y_hi, self.y0, self.sy, self.ny)
            cx = self.x0 + (np.arange(i0, i1) + 0.5) * self.dx
            cy = self.y0 + (np.arange(j0, j1) + 0.5) * self.dy
            inside = shapely.contains_xy(self.geoms[g], cx[None, :], cy[:, None])
            window = cells[j0:j1, i0:i1]
            window[inside] = g
        return cells.ravel()

    @staticmethod
    def _span(lo: float, hi: float, origin: float, scale: float, size: int) -> tuple[int, int]:
        return max(0, int((lo - origin) * scale)), min(size, int((hi - origin) * scale) + 1)

    def _boundary_pairs(self) -> np.ndarray:
        """Sorted unique keys ``cell * n + grid`` for every cell a grid's boundary touches.

        Exact supercover of each ring segment, in cell units: for every raster column the segment spans,
        the rows between its lowest and highest point in that column. ``EDGE_SLACK`` (in cells) widens
        each range a little, so a boundary lying on a cell edge counts for the cells on both sides and
        rounding never drops a cell; an extra cell only costs one more exact test."""
        rings, ring_grid = shapely.get_rings(self.geoms, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        u = (coords[:, 0] - self.x0) * self.sx
        v = (coords[:, 1] - self.y0) * self.sy
        seg = np.flatnonzero(ring_of[:-1] == ring_of[1:])
        u0, v0, u1, v1 = u[seg], v[seg], u[seg + 1], v[seg + 1]
        grid = ring_grid[ring_of[seg]]
        ua, ub = np.minimum(u0, u1), np.maximum(u0, u1)
        c_lo = np.floor(ua - EDGE_SLACK).astype(np.int64)
        c_hi = np.floor(ub + EDGE_SLACK).astype(np.int64)
        s, col = _expand(c_lo, c_hi - c_lo + 1)
        xa, xb = np.clip(col, ua[s], ub[s]), np.clip(col + 1, ua[s], ub[s])
        du = (u1 - u0)[s]
        slope = np.divide((v1 - v0)[s], du, out=np.zeros_like(du), where=du != 0)
        flat = du == 0
        va = np.where(flat, np.minimum(v0, v1)[s], v0[s] + (xa - u0[s]) * slope)
        vb = np.where(flat, np.maximum(v0, v1)[s], v0[s] + (xb - u0[s]) * slope)
        r_lo = np.floor(np.minimum(va, vb) - EDGE_SLACK).astype(np.int64)
        r_hi = np.floor(np.maximum(va, vb) + EDGE_SLACK).astype(np.int64)
        k, row = _expand(r_lo, r_hi - r_lo + 1)
        col = col[k]
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        keys = (row[ok] * self.nx + col[ok]) * len(self.records) + grid[s[k[ok]]]
        return _sorted_unique(keys)

    def _classify(self, cells: np.ndarray, keys: np.ndarray) -> None:
        """Touched cells become boundary cells with their code-ordered candidates; the rest keep the
        centre label, which is exact for a cell no boundary touches."""
        n = len(self.records)
        pair_cell, pair_grid = keys // n, keys % n
        starts = np.flatnonzero(np.concatenate([[True], pair_cell[1:] != pair_cell[:-1]]))
        boundary_cells = pair_cell[starts]
        cells[boundary_cells] = -2 - np.arange(len(boundary_cells), dtype=np.int32)
        self.cells = cells
        self.cand_ptr = np.append(starts, len(keys)).astype(np.int64)
        self.cand = pair_grid.astype(np.int32)

    def _views(self) -> None:
        """memoryviews give single lookups plain Python ints without numpy scalar overhead."""
        self.cells = np.ascontiguousarray(self.cells, dtype=np.int32)
        self._cells_mv = self.cells.data
        self._ptr_mv = self.cand_ptr.data
        self._cand_mv = self.cand.data

    @property
    def boundary_share(self) -> float:
        """Share of raster cells that need an exact test (for the benchmark's report)."""
        return float((self.cells <= -2).mean()) if len(self.cells) else 0.0


def _expand(lo: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``lo[i] .. lo[i] + counts[i] - 1``: (i, value) for every value of every range."""
    owner = np.repeat(np.arange(len(lo)), counts)
    first = np.cumsum(counts) - counts
    return owner, lo[owner] + np.arange(len(owner)) - first[owner]


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a


def generation(session: Session) -> tuple[Any, ...]:
    """The tuple an index is tagged with; any approved boundary change or import changes it."""
    stmt = select(
        select(AreaGeneration.value).where(AreaGeneration.id == 1).scalar_subquery(),
        select(func.count(Area.id)).scalar_subquery(),
        select(func.max(Area.updated_at)).scalar_subquery(),
    )
    return tuple(session.execute(stmt, execution_options=UNSCOPED).one())


def bump_generation(session: Session) -> None:
    """Called in the transaction that changes boundaries, so the bump commits (or not) with them.
    Core statements on the table: the counter is bookkeeping, not an audited business record."""
    table = AreaGeneration.__table__
    bumped = session.execute(update(table).where(table.c.id == 1).values(value=table.c.value + 1))
    if rowcount(bumped) == 0:
        session.execute(insert(table).values(id=1, value=1))


def load_index(session: Session) -> GridIndex:
    """All current approved grid boundaries with their chains, read unscoped (callers apply the scope)."""
    refs: dict[int, tuple[AreaRef, int | None]] = {}
    for row in session.execute(
        select(Area.id, Area.code, Area.name, Area.level, Area.parent_id), execution_options=UNSCOPED
    ):
        refs[row.id] = (AreaRef(row.id, row.code, row.name, row.level), row.parent_id)

    def chain(area_id: int) -> tuple[AreaRef, ...]:
        out: list[AreaRef] = []
        current: int | None = area_id
        while current is not None and current in refs and len(out) <= AreaLevel.GRID:
            ref, current = refs[current]
            out.append(ref)
        return tuple(out)

    grids = session.execute(
        select(Area.id, Area.area_path, Area.geometry).where(
            Area.level == int(AreaLevel.GRID), Area.geometry.is_not(None)
        ),
        execution_options=UNSCOPED,
    )
    records = [GridRecord(refs[r.id][0], r.area_path, shape(r.geometry), chain(r.id)) for r in grids]
    return GridIndex(records)


def index_cache(recheck_seconds: float | None = None) -> ReferenceCache[GridIndex]:
    return ReferenceCache("grid index", generation, load_index, recheck_seconds)


# Intake asks for the index on every case and boundaries change a few times a year (shiyu.core.refcache).
INDEXES = index_cache()
