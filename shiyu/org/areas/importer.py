"""Import and export of the area tree as a GeoJSON FeatureCollection.

Each feature carries ``code, name, level, parent_code, population, households``. An import is validated
as a whole first and produces a report per feature (errors and warnings); it writes only when the whole
file is valid, in the caller's transaction. It creates areas (each with an approved boundary version 1)
and updates population/households of existing ones; names and approved boundaries of existing areas are
never changed by an import (a boundary change is a proposal, see ``service.propose_boundary``).

Files as cities have them (DataV GeoAtlas downloads, tables keyed by Chinese property names through a field
mapping) are translated first (``sources``); coordinates in GCJ-02 or BD-09 are converted to WGS-84
(``crs``); and with ``clip_to_parent`` each new child is cut to its parent's boundary, the report saying per
feature how much was cut (public files are simplified independently, so children stick out by a percent
or two). Without it, such a child is an error that says how much sticks out and names the option.

Authority: every feature needs ``area.import`` over the place it lands in. A parent the caller cannot
see or may not import under is reported as unknown, exactly like one that does not exist.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import insert_returning, with_defaults
from shiyu.core.errors import NotFound, ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import crs, rules, sources
from shiyu.org.areas.geometry import GeometryProblem, area_m2, parse_boundary, polygonal, same_shape, to_geojson
from shiyu.org.areas.lookup import bump_generation
from shiyu.org.areas.models import LEVEL_LABELS, Area, AreaBoundary, AreaLevel, BoundaryStatus
from shiyu.org.areas.rules import Issue, Severity, issue
from shiyu.org.areas.service import get_area

UNSCOPED = {"unscoped": True}
CHUNK = 500
_Key = TypeVar("_Key", int, str)  # area codes, or area ids
LEVEL_NAMES = {en: level for level, (_zh, en) in LEVEL_LABELS.items()} | {
    zh: level for level, (zh, _en) in LEVEL_LABELS.items()
}


class InvalidGeoJSON(ShiyuError):
    status = 422
    code = "invalid_geojson"
    zh = "文件不是有效的 GeoJSON FeatureCollection：{reason}"
    en = "The file is not a valid GeoJSON FeatureCollection: {reason}"


class UnknownCrs(ShiyuError):
    status = 422
    code = "unknown_crs"
    zh = "未知的坐标系“{value}”，可选 wgs84、cgcs2000、gcj02、bd09"
    en = "Unknown coordinate system '{value}'; use wgs84, cgcs2000, gcj02 or bd09"


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file: its coordinate system, a field mapping (source property → our field) and
    whether to clip each new child to its parent."""

    crs: str = "wgs84"
    mapping: dict[str, str] = field(default_factory=dict)
    clip_to_parent: bool = False

    @classmethod
    def parse(cls, crs_name: str | None = None, mapping: str | None = None,
              clip_to_parent: bool = False) -> ImportOptions:
        """From the words a person types (CLI, form, query); raises UnknownCrs or sources.InvalidMapping."""
        name = (crs_name or "wgs84").strip().lower().replace("-", "")
        if name not in crs.CRS_NAMES:
            raise UnknownCrs(value=crs_name, detail={"field": "crs"})
        return cls(name, sources.parse_mapping(mapping), clip_to_parent)


class ImportInvalid(ShiyuError):
    """The file has errors, so nothing was written; ``detail`` is the full report."""

    status = 422
    code = "import_invalid"
    zh = "导入文件有 {errors} 个错误，未写入任何数据"
    en = "The import file has {errors} errors; nothing was written"


@dataclass
class Entry:
    """One feature of the file, as parsed, and what the validation found."""

    index: int
    code: str = ""
    name: str = ""
    level: AreaLevel | None = None
    parent_code: str | None = None
    population: int | None = None
    households: int | None = None
    raw_geometry: Any = None
    geom: BaseGeometry | None = None
    existing: Area | None = None
    parent: Area | None = None
    action: str = "create"
    code_ok: bool = False
    clipped: tuple[float, float] | None = None  # (share of the area cut off, square metres cut off)
    issues: list[Issue] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"{self.code} {self.name}".strip() or f"#{self.index}"

    @property
    def ok(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)

    def add(self, found: Issue | None) -> None:
        if found is not None:
            self.issues.append(found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "code": self.code, "name": self.name,
            "level": LEVEL_LABELS[self.level][1] if self.level is not None else None,
            "action": self.action if self.ok else "none",
            "clipped": {"percent": rules.percent(self.clipped[0]), "m2": round(self.clipped[1])}
            if self.clipped else None,
            "errors": [i.to_dict() for i in self.issues if i.severity is Severity.ERROR],
            "warnings": [i.to_dict() for i in self.issues if i.severity is Severity.WARNING],
        }


@dataclass
class ImportReport:
    entries: list[Entry]
    general: list[Issue] = field(default_factory=list)
    dry_run: bool = True
    written: bool = False
    formats: list[str] = field(default_factory=list)
    crs: str = "wgs84"
    converted_points: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for i in self.all_issues() if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.all_issues() if i.severity is Severity.WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def all_issues(self) -> Iterator[Issue]:
        yield from self.general
        for e in self.entries:
            yield from e.issues

    def to_dict(self) -> dict[str, Any]:
        actions = [e.action for e in self.entries if e.ok]
        return {
            "valid": self.valid, "dry_run": self.dry_run, "written": self.written,
            "summary": {"features": len(self.entries), "create": actions.count("create"),
                        "update": actions.count("update"), "unchanged": actions.count("unchanged"),
                        "errors": self.errors, "warnings": self.warnings,
                        "clipped": sum(1 for e in self.entries if e.ok and e.clipped)},
            "source": {"formats": self.formats, "crs": self.crs, "crs_label": crs.CRS_LABELS[self.crs],
                       "converted_points": self.converted_points},
            "features": [e.to_dict() for e in self.entries],
            "general": [i.to_dict() for i in self.general],
        }


# -- reading -------------------------------------------------------------------------------------------


def read_features(data: bytes | str | dict[str, Any]) -> list[Any]:
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidGeoJSON(reason=f"JSON: {exc}") from exc
        except RecursionError as exc:  # "[[[[…" a hundred thousand deep: no GeoJSON nests like that
            raise InvalidGeoJSON(reason="JSON: nested too deeply") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidGeoJSON(reason='"type" must be "FeatureCollection"')
    features = data.get("features")
    if not isinstance(features, list):
        raise InvalidGeoJSON(reason='"features" must be a list')
    return features


def _count(value: Any, name: str, entry: Entry) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        entry.add(issue("invalid_number", entry.subject, field=name))
        return None
    return int(value)


def _level(value: Any, entry: Entry) -> AreaLevel | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= AreaLevel.GRID:
        return AreaLevel(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) <= AreaLevel.GRID:
        return AreaLevel(int(value))
    if isinstance(value, str) and value.strip().lower() in LEVEL_NAMES:
        return LEVEL_NAMES[value.strip().lower()]
    entry.add(issue("invalid_level", entry.subject, value=value))
    return None


def parse_entry(index: int, feature: Any) -> Entry:
    entry = Entry(index)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        entry.add(issue("invalid_feature", entry.subject, reason='"type" must be "Feature"'))
        return entry
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        entry.add(issue("invalid_feature", entry.subject, reason='"properties" must be an object'))
        return entry
    entry.code = str(props.get("code") or "").strip()
    entry.name = str(props.get("name") or "").strip()
    parent = props.get("parent_code")
    entry.parent_code = str(parent).strip() if parent not in (None, "") else None
    entry.level = _level(props.get("level"), entry)
    entry.population = _count(props.get("population"), "population", entry)
    entry.households = _count(props.get("households"), "households", entry)
    if not 1 <= len(entry.name) <= 100:
        entry.add(issue("invalid_name", entry.subject))
    if entry.level is not None:
        bad_code = rules.check_code(entry.code, entry.level, entry.subject)
        entry.add(bad_code)
        entry.code_ok = bad_code is None
    entry.raw_geometry = feature.get("geometry")
    if entry.raw_geometry is not None:
        try:
            entry.geom = parse_boundary(entry.raw_geometry)
        except GeometryProblem as exc:
            entry.add(issue("invalid_geometry", entry.subject, reason=str(exc)))
    return entry


# -- validating ----------------------------------------------------------------------------------------


def _chunks(values: Iterable[_Key]) -> Iterator[list[_Key]]:
    items = sorted(values)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _parent_code_of(area: Area) -> str | None:
    codes = [c for c in area.area_path.split("/") if c]
    return codes[-2] if len(codes) > 1 else None


class _Validator:
    def __init__(self, session: Session, principal: Principal, entries: list[Entry], clip: bool = False) -> None:
        self.session, self.principal, self.entries, self.clip = session, principal, entries, clip
        self.general: list[Issue] = []
        self.first: dict[str, Entry] = {}
        self.visible: dict[str, Area] = {}
        self.hidden: set[str] = set()

    def run(self) -> list[Issue]:
        self._duplicates()
        self._load()
        for e in self.entries:
            if e.level is None or self.first.get(e.code) is not e:
                continue
            if e.code in self.visible:
                self._existing(e)
            else:
                self._new(e)
        self._geometry()
        for e in self.entries:
            if e.level is not None and e.ok:
                pop = e.population if e.population is not None else getattr(e.existing, "population", 0)
                hh = e.households if e.households is not None else getattr(e.existing, "households", 0)
                e.issues.extend(rules.check_counts(e.level, pop, hh, e.subject))
        return self.general

    def _duplicates(self) -> None:
        for e in self.entries:
            if not e.code:
                continue
            if e.code in self.first:
                e.add(issue("duplicate_code", e.subject, first=self.first[e.code].index))
            else:
                self.first[e.code] = e

    def _load(self) -> None:
        wanted = set(self.first) | {e.parent_code for e in self.entries if e.parent_code}
        for chunk in _chunks(wanted):
            for area in self.session.scalars(select(Area).where(Area.code.in_(chunk))):
                self.visible[area.code] = area
        for chunk in _chunks(set(self.first) - set(self.visible)):
            rows = self.session.scalars(select(Area.code).where(Area.code.in_(chunk)), execution_options=UNSCOPED)
            self.hidden.update(rows)

    def _existing(self, e: Entry) -> None:
        area = self.visible[e.code]
        e.existing = area
        if not self.principal.can("area.import", area.area_path):
            e.add(issue("import_not_allowed", e.subject))
            return
        parent_code = _parent_code_of(area)
        if area.level != e.level or parent_code != e.parent_code:
            level = AreaLevel(area.level)
            e.add(issue("code_clash", e.subject, parent=parent_code or "—", **rules.level_words(level)))
            return
        if e.geom is not None and self.clip and e.parent_code and (parent := self._parent_shape(e.parent_code)):
            e.geom = polygonal(e.geom.intersection(parent))  # the same file again, clipped again: unchanged
        if e.geom is not None and (area.geometry is None or not same_shape(e.geom, shape(area.geometry))):
            e.add(issue("boundary_change_requires_proposal", e.subject))
        if e.name != area.name:
            e.add(issue("name_not_changed", e.subject, Severity.WARNING, current=area.name))
        changed = (e.population is not None and e.population != area.population) or (
            e.households is not None and e.households != area.households)
        e.action = "update" if changed else "unchanged"

    def _new(self, e: Entry) -> None:
        assert e.level is not None
        if e.level == AreaLevel.CITY:
            if e.parent_code:
                e.add(issue("unexpected_parent", e.subject))
            elif not self.principal.can("area.import", f"/{e.code}/"):
                e.add(issue("import_not_allowed", e.subject))
        elif not e.parent_code:
            e.add(issue("parent_required", e.subject))
        else:
            self._parent(e)
        if e.raw_geometry is None:
            e.add(issue("geometry_missing", e.subject))
        if e.code in self.hidden and e.ok:
            # Only said once the caller has shown rights over the place: the code is taken elsewhere.
            e.add(issue("code_in_use", e.subject))

    def _parent(self, e: Entry) -> None:
        assert e.level is not None and e.parent_code is not None
        in_file = self.first.get(e.parent_code)
        in_db = self.visible.get(e.parent_code)
        if in_file is not None and in_file.existing is None and e.parent_code not in self.visible:
            parent_level = in_file.level
        elif in_db is not None and self.principal.can("area.import", f"{in_db.area_path}{e.code}/"):
            e.parent, parent_level = in_db, AreaLevel(in_db.level)
        else:
            e.add(issue("unknown_parent", e.subject, parent=e.parent_code))
            return
        if parent_level is None:
            return
        wrong_level = rules.check_parent_level(e.level, parent_level, e.parent_code, e.subject)
        e.add(wrong_level)
        if wrong_level is None and e.code_ok:
            e.add(rules.check_code_prefix(e.code, e.level, e.parent_code, e.subject))

    def _inside(self, e: Entry, parent: BaseGeometry) -> None:
        """A new child against its parent: clipped (when asked) or an error saying how much sticks out."""
        assert e.geom is not None and e.parent_code is not None
        outside = e.geom.difference(parent)
        frac = outside.area / e.geom.area if e.geom.area > 0 else 0.0
        if self.clip and frac > 1e-9:
            kept = polygonal(e.geom.intersection(parent))
            if kept.is_empty:
                e.add(issue("clipped_away", e.subject, parent=e.parent_code))
                return
            e.clipped, e.geom = (frac, area_m2(outside)), kept
        elif frac >= rules.OUTSIDE_TOLERANCE:
            e.add(issue("outside_parent.import", e.subject, parent=e.parent_code, percent=rules.percent(frac),
                        m2=f"{area_m2(outside):,.0f}"))

    def _parent_shape(self, code: str) -> BaseGeometry | None:
        in_file = self.first.get(code)
        if in_file is not None and in_file.existing is None:
            return in_file.geom
        area = self.visible.get(code)
        return shape(area.geometry) if area is not None and area.geometry else None

    def _geometry(self) -> None:
        """Containment, sibling overlaps and parent coverage for the new areas that passed so far."""
        new = [e for e in self.entries if e.ok and e.existing is None and e.geom is not None]
        for e in sorted(new, key=lambda e: e.level or 0):  # parents first: a child is cut to its clipped parent
            parent_geom = self._parent_shape(e.parent_code) if e.parent_code else None
            if parent_geom is not None:
                self._inside(e, parent_geom)
        new = [e for e in new if e.ok]
        parents = {e.parent_code for e in new if e.parent_code}
        db_parent_ids = {self.visible[c].id: c for c in parents if c in self.visible}
        members: list[tuple[str, str, BaseGeometry, Entry | None]] = []
        for ids in _chunks(db_parent_ids):
            rows = self.session.execute(
                select(Area.code, Area.parent_id, Area.geometry).where(
                    Area.parent_id.in_(ids), Area.geometry.is_not(None)), execution_options=UNSCOPED)
            members.extend((db_parent_ids[r.parent_id], r.code, shape(r.geometry), None) for r in rows)
        members.extend((e.parent_code, e.code, e.geom, e) for e in new if e.parent_code)
        for i, j, frac in rules.overlapping_pairs([m[2] for m in members], [m[0] for m in members]):
            a, b = members[i], members[j]
            for mine, other in ((a, b), (b, a)):
                if mine[3] is not None:
                    mine[3].add(issue("sibling_overlap", mine[3].subject, other=other[1],
                                      percent=rules.percent(frac)))
        by_parent: dict[str, list[BaseGeometry]] = defaultdict(list)
        for parent_code, _code, geom, _entry in members:
            by_parent[parent_code].append(geom)
        for parent_code, kids in by_parent.items():
            parent_geom = self._parent_shape(parent_code)
            if parent_geom is None:
                continue
            owner = self.first.get(parent_code)
            subject = owner.subject if owner is not None else parent_code
            found = rules.coverage_gap(parent_geom, kids, subject)
            if found is not None and owner is not None:
                owner.add(found)
            elif found is not None:
                self.general.append(found)


def validate(session: Session, principal: Principal, data: bytes | str | dict[str, Any],
             options: ImportOptions | None = None) -> ImportReport:
    options = options or ImportOptions()
    source = sources.normalise(read_features(data), options.mapping)
    entries = [parse_entry(i, f) for i, f in enumerate(source.features, start=1)]
    for e in entries:
        if found := source.issues.get(e.index):  # a bad adcode: said once, not again as a bad 12-digit code
            e.issues = found + [i for i in e.issues if i.code != "invalid_code"]
            e.code_ok = False
    shaped = [e for e in entries if e.geom is not None]
    moved, points = crs.to_wgs84([e.geom for e in shaped], options.crs)
    for e, geom in zip(shaped, moved, strict=True):
        e.geom = geom
    general = source.general + _Validator(session, principal, entries, options.clip_to_parent).run()
    return ImportReport(entries, general, formats=sorted(source.formats), crs=options.crs,
                        converted_points=points)


# -- writing -------------------------------------------------------------------------------------------


def import_areas(
    session: Session, principal: Principal, data: bytes | str | dict[str, Any], *, dry_run: bool = True,
    options: ImportOptions | None = None,
) -> ImportReport:
    """Validate; unless it is a dry run, write everything or (on any error) raise ``ImportInvalid``."""
    principal.require("area.import")
    report = validate(session, principal, data, options)
    report.dry_run = dry_run
    if dry_run:
        return report
    if not report.valid:
        raise ImportInvalid(detail=report.to_dict(), errors=report.errors)
    _write(session, principal, report.entries)
    report.written = True
    return report


def _write(session: Session, principal: Principal, entries: list[Entry]) -> None:
    """Counts of existing areas through the ORM (a few rows); new areas and their approved version 1 with
    one INSERT per level and table, audited like the ORM's writes (``audit.created``): a city of 2,000
    grids is about 4,700 rows, which row-by-row flushes with per-object audit snapshots took half a minute
    to write. The validator has checked ``area.import`` over every new area's place; it is asserted again
    per row, since these statements pass below the ORM's scope check."""
    for e in entries:
        if e.existing is not None:
            e.existing.population = e.population if e.population is not None else e.existing.population
            e.existing.households = e.households if e.households is not None else e.existing.households
    session.flush()
    now = utcnow()
    made: dict[str, tuple[int, str]] = {}  # code → (id, area_path) of the areas written so far
    audits: list[dict[str, Any]] = []
    area_table, boundary_table = Area.__table__, AreaBoundary.__table__
    for level in AreaLevel:
        new = [e for e in entries if e.level == level and e.existing is None]
        if not new:
            continue
        rows = []
        for e in new:
            assert e.geom is not None
            parent_id, parent_path = made.get(e.parent_code or "") or (
                (e.parent.id, e.parent.area_path) if e.parent else (None, "/"))
            path = f"{parent_path}{e.code}/"
            principal.require("area.import", path)
            rows.append(with_defaults(area_table, {
                "code": e.code, "name": e.name, "level": int(level), "parent_id": parent_id,
                "population": e.population or 0, "households": e.households or 0,
                "geometry": to_geojson(e.geom), "area_path": path}))
        ids = {r.code: r.id for r in session.execute(insert_returning(area_table, "code"), rows)}
        versions = []
        for row in rows:
            made[row["code"]] = (ids[row["code"]], row["area_path"])
            audits.append(audit.created(session, area_table, ids[row["code"]], row))
            versions.append(with_defaults(boundary_table, {
                "area_id": ids[row["code"]], "version": 1, "geometry": row["geometry"],
                "area_path": row["area_path"], "status": BoundaryStatus.APPROVED.value, "effective_from": now,
                "proposed_by_id": principal.user_id, "proposed_at": now, "decided_by_id": principal.user_id,
                "decided_at": now, "note": "导入 / import"}))
        boundary_ids = {r.area_id: r.id for r in session.execute(insert_returning(boundary_table, "area_id"),
                                                                  versions)}
        audits.extend(audit.created(session, boundary_table, boundary_ids[v["area_id"]], v) for v in versions)
    audit.write(session, audits)
    bump_generation(session)


# -- exporting -----------------------------------------------------------------------------------------


def export_areas(session: Session, root_id: int | None = None) -> dict[str, Any]:
    """The caller's visible subtree (or all visible areas) as a FeatureCollection that imports back."""
    stmt = select(Area).order_by(Area.level, Area.code)
    root = get_area(session, root_id) if root_id is not None else None
    if root is not None:
        stmt = stmt.where(Area.area_path.startswith(root.area_path, autoescape=True))
    features = [
        {"type": "Feature", "geometry": a.geometry, "properties": {
            "code": a.code, "name": a.name, "level": LEVEL_LABELS[AreaLevel(a.level)][1],
            "parent_code": _parent_code_of(a), "population": a.population, "households": a.households}}
        for a in session.scalars(stmt)
    ]
    audit.record(session, "export", "area", root.id if root else None,
                 area_path=root.area_path if root else audit.ROOT_PATH, after={"features": len(features)})
    return {"type": "FeatureCollection", "features": features}


def find_root(session: Session, code: str) -> int:
    """The id of a visible area by code (the CLI names roots by code)."""
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise NotFound("not_found", "未找到代码为 {value} 的区域", "No area with code {value}", value=code)
    return area.id
