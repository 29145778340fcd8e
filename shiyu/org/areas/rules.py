"""The rules every area and boundary must satisfy, as issues with stable codes and Chinese + English text.

Rules return ``Issue`` values instead of raising, so that an import can report every problem of every
feature at once; ``AreaRuleError`` turns the issues of one area into an API error.

Tolerances (areas are compared as ratios, so lon/lat degrees are fine at city scale):
- a child may stick out of its parent by less than 0.5 % of its own area (digitising slivers along a
  shared outer edge are common; a whole misplaced block is not);
- two siblings may overlap by at most 0.01 % of the smaller one (rounding of shared vertices);
- children must cover their parent except for at most 0.5 % of the parent's area (holes above that are
  reported, with a point inside the largest hole so that it can be found on the map).
Household (300–500) and population (~1,000, warned outside 500–2,000) norms for grids are warnings only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from shiyu.core.errors import ShiyuError
from shiyu.org.areas.models import LEVEL_LABELS, AreaLevel

OUTSIDE_TOLERANCE = 0.005
OVERLAP_TOLERANCE = 0.0001
COVERAGE_TOLERANCE = 0.005
GRID_HOUSEHOLDS = (300, 500)
GRID_POPULATION = (500, 2000)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


MESSAGES: dict[str, tuple[str, str]] = {
    "invalid_feature": ("{subject}：要素格式不正确：{reason}", "{subject}: malformed feature: {reason}"),
    "invalid_level": (
        "{subject}：层级“{value}”无效，应为 city/district/street/community/grid 或 0–4",
        "{subject}: level '{value}' is not valid; use city/district/street/community/grid or 0–4",
    ),
    "invalid_name": ("{subject}：名称须为1–100个字符", "{subject}: the name must have 1–100 characters"),
    "invalid_number": ("{subject}：{field} 须为非负整数", "{subject}: {field} must be a whole number ≥ 0"),
    "invalid_code": (
        "{subject}：代码“{value}”格式不正确：{rule_zh}", "{subject}: code '{value}' is malformed: {rule_en}"
    ),
    "code_prefix_mismatch": (
        "{subject}：代码须以上级 {parent} 的前{digits}位“{prefix}”开头",
        "{subject}: the code must start with '{prefix}', the first {digits} digits of its parent {parent}",
    ),
    "parent_required": ("{subject}：缺少上级代码 parent_code", "{subject}: parent_code is missing"),
    "unexpected_parent": ("{subject}：市级区域不能有上级", "{subject}: a city has no parent"),
    "unknown_parent": (
        "{subject}：上级 {parent} 不存在或不在您的导入权限范围内",
        "{subject}: the parent {parent} does not exist or is outside your import rights",
    ),
    "wrong_parent_level": (
        "{subject}：{level_zh}的上级须为{expected_zh}，而 {parent} 是{parent_level_zh}",
        "{subject}: the parent of a {level_en} must be a {expected_en}, but {parent} is a {parent_level_en}",
    ),
    "duplicate_code": (
        "{subject}：代码在文件中重复（第{first}个要素已使用）",
        "{subject}: the code appears more than once in the file (first in feature {first})",
    ),
    "code_in_use": ("{subject}：该代码已被其他区域使用", "{subject}: the code is already used by another area"),
    "code_clash": (
        "{subject}：该代码已存在，但层级或上级不同（现为{level_zh}，上级 {parent}）",
        "{subject}: this code exists with another level or parent (a {level_en} under {parent})",
    ),
    "import_not_allowed": ("{subject}：您无权导入此区域", "{subject}: you may not import this area"),
    "boundary_change_requires_proposal": (
        "{subject}：已批准的边界不能通过导入修改，请提交边界变更申请",
        "{subject}: an approved boundary cannot be changed by import; submit a boundary change proposal",
    ),
    "geometry_missing": ("{subject}：新区域须有边界", "{subject}: a new area needs a boundary geometry"),
    "invalid_geometry": ("{subject}：边界无效：{reason}", "{subject}: invalid boundary: {reason}"),
    "outside_parent": (
        "{subject}：有 {percent}% 的面积超出上级 {parent}（容差 0.5%）",
        "{subject}: {percent}% of its area lies outside its parent {parent} (tolerance 0.5%)",
    ),
    "outside_parent.import": (
        "{subject}：有 {percent}%（约 {m2} 平方米）的面积超出上级 {parent}（容差 0.5%）。分别简化的公开数据常有此情况，"
        "可勾选“裁剪到上级边界”（命令行 --clip-to-parent）裁掉超出部分",
        "{subject}: {percent}% (about {m2} m²) of its area lies outside its parent {parent} (tolerance 0.5%). "
        "Public files simplified independently often do; choose 'clip to parent' (--clip-to-parent on the "
        "command line) to cut off what sticks out",
    ),
    "clipped_away": (
        "{subject}：完全在上级 {parent} 之外，裁剪后不剩任何面积",
        "{subject}: lies entirely outside its parent {parent}; nothing is left after clipping",
    ),
    "invalid_adcode": (
        "{subject}：adcode “{value}”不是6位行政区划代码（GB/T 2260，如 350203）",
        "{subject}: adcode '{value}' is not a 6-digit division code (GB/T 2260, e.g. 350203)",
    ),
    "map_source_missing": (
        "字段映射中的源字段“{source}”在文件的任何要素中都不存在",
        "The mapped source field '{source}' is in none of the file's features",
    ),
    "sibling_overlap": (
        "{subject}：与同级区域 {other} 重叠（占较小者面积的 {percent}%）",
        "{subject}: overlaps its sibling {other} ({percent}% of the smaller one)",
    ),
    "child_outside": (
        "{subject}：下级区域 {other} 将有 {percent}% 的面积超出新边界",
        "{subject}: its child {other} would have {percent}% of its area outside the new boundary",
    ),
    "coverage_gap": (
        "{subject}：下级区域未覆盖其 {percent}% 的面积（例如 {lon}, {lat} 附近）",
        "{subject}: its children leave {percent}% of it uncovered (e.g. near {lon}, {lat})",
    ),
    "households_out_of_range": (
        "{subject}：网格户数 {value} 不在建议的 300–500 户之间",
        "{subject}: {value} households is outside the recommended 300–500 for a grid",
    ),
    "population_unusual": (
        "{subject}：网格人口 {value} 与建议的约1000人相差较大（500–2000）",
        "{subject}: a population of {value} is far from the recommended ~1,000 for a grid (500–2,000)",
    ),
}

_CODE_RULES: dict[AreaLevel, tuple[re.Pattern[str], str, str]] = {
    AreaLevel.CITY: (re.compile(r"[1-9]\d(?!00)\d{2}0{8}"), "12位数字，前4位为市级代码，后8位为0",
                     "12 digits: a 4-digit city prefix then 8 zeros"),
    AreaLevel.DISTRICT: (re.compile(r"\d{4}(?!00)\d{2}0{6}"), "12位数字，第5–6位不为00，后6位为0",
                         "12 digits: digits 5–6 not 00, then 6 zeros"),
    AreaLevel.STREET: (re.compile(r"\d{6}(?!000)\d{3}000"), "12位数字，第7–9位不为000，后3位为0",
                       "12 digits: digits 7–9 not 000, then 3 zeros"),
    AreaLevel.COMMUNITY: (re.compile(r"\d{9}(?!000)\d{3}"), "12位数字，后3位不为000",
                          "12 digits, the last 3 not 000"),
    AreaLevel.GRID: (re.compile(r"\d{12}(?!000)\d{3}"), "社区代码加3位序号（共15位，序号不为000）",
                     "the community code plus a 3-digit serial (15 digits, serial not 000)"),
}
# How many leading digits a child shares with its parent.
PARENT_PREFIX = {AreaLevel.DISTRICT: 4, AreaLevel.STREET: 6, AreaLevel.COMMUNITY: 9, AreaLevel.GRID: 12}


@dataclass(frozen=True)
class Issue:
    code: str
    severity: Severity
    subject: str
    zh: str
    en: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "subject": self.subject,
                "message_zh": self.zh, "message_en": self.en, "detail": self.detail}


def issue(code: str, subject: str, severity: Severity = Severity.ERROR, **params: Any) -> Issue:
    """An issue with the texts of ``MESSAGES[code]``; a key ``code.variant`` gives the issue ``code`` with
    that variant's wording (the importer names its clipping option where a proposal cannot)."""
    zh, en = MESSAGES[code]
    code = code.partition(".")[0]
    return Issue(code, severity, subject, zh.format(subject=subject, **params),
                 en.format(subject=subject, **params), params)


class AreaRuleError(ShiyuError):
    """An area or boundary breaks one or more rules; ``detail.issues`` lists them all."""

    status = 422

    def __init__(self, issues: Sequence[Issue]) -> None:
        first = issues[0]
        more_zh = f"（另有 {len(issues) - 1} 个问题）" if len(issues) > 1 else ""
        more_en = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(first.code, first.zh.replace("{", "{{").replace("}", "}}") + more_zh,
                         first.en.replace("{", "{{").replace("}", "}}") + more_en,
                         detail={"area": first.subject, "issues": [i.to_dict() for i in issues]})


def errors_only(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity is Severity.ERROR]


class LevelWords(TypedDict):
    level_zh: str
    level_en: str


def level_words(level: AreaLevel) -> LevelWords:
    zh, en = LEVEL_LABELS[level]
    return {"level_zh": zh, "level_en": en}


def percent(fraction: float) -> str:
    return f"{fraction * 100:.2f}"


def check_code(code: str, level: AreaLevel, subject: str) -> Issue | None:
    pattern, rule_zh, rule_en = _CODE_RULES[level]
    if pattern.fullmatch(code):
        return None
    return issue("invalid_code", subject, value=code, rule_zh=rule_zh, rule_en=rule_en)


def level_of_code(code: str) -> AreaLevel | None:
    """The one level whose code pattern ``code`` matches (files without a level column), else None."""
    found = [level for level, (pattern, _zh, _en) in _CODE_RULES.items() if pattern.fullmatch(code)]
    return found[0] if len(found) == 1 else None


def check_code_prefix(code: str, level: AreaLevel, parent_code: str, subject: str) -> Issue | None:
    digits = PARENT_PREFIX[level]
    if code[:digits] == parent_code[:digits]:
        return None
    return issue("code_prefix_mismatch", subject, parent=parent_code, digits=digits, prefix=parent_code[:digits])


def check_parent_level(level: AreaLevel, parent_level: AreaLevel, parent_code: str, subject: str) -> Issue | None:
    """Each level hangs under the level above it; in particular every grid belongs to one community."""
    if parent_level == level - 1:
        return None
    expected = LEVEL_LABELS[AreaLevel(level - 1)]
    parent_words = LEVEL_LABELS[parent_level]
    return issue("wrong_parent_level", subject, parent=parent_code, expected_zh=expected[0],
                 expected_en=expected[1], parent_level_zh=parent_words[0], parent_level_en=parent_words[1],
                 **level_words(level))


def check_counts(level: AreaLevel, population: int, households: int, subject: str) -> list[Issue]:
    """Grid sizing norms: warnings for the centre to look at, never a refusal."""
    if level != AreaLevel.GRID:
        return []
    out = []
    if not GRID_HOUSEHOLDS[0] <= households <= GRID_HOUSEHOLDS[1]:
        out.append(issue("households_out_of_range", subject, Severity.WARNING, value=households))
    if not GRID_POPULATION[0] <= population <= GRID_POPULATION[1]:
        out.append(issue("population_unusual", subject, Severity.WARNING, value=population))
    return out


def outside_fraction(child: Any, parent: Any) -> Any:
    """Share of the child's area outside the parent (element-wise on arrays)."""
    return shapely.area(shapely.difference(child, parent)) / shapely.area(child)


def overlap_fraction(a: BaseGeometry, b: BaseGeometry) -> float:
    smaller = min(a.area, b.area)
    return float(shapely.intersection(a, b).area / smaller) if smaller > 0 else 0.0


def check_inside(child: BaseGeometry, parent: BaseGeometry, parent_code: str, subject: str) -> Issue | None:
    frac = float(outside_fraction(child, parent))
    if frac < OUTSIDE_TOLERANCE:
        return None
    return issue("outside_parent", subject, parent=parent_code, percent=percent(frac))


def overlapping_pairs(geoms: Sequence[BaseGeometry], groups: Sequence[Any] | None = None
                      ) -> list[tuple[int, int, float]]:
    """Pairs (i < j) overlapping above tolerance, found with an STRtree so that thousands stay fast. With
    ``groups`` (one label per geometry, e.g. the parent's code) only pairs within a group are measured: a
    whole city's levels at once, a grid meets its ancestors and their neighbours far more often than its
    siblings, and those intersections are the expensive part."""
    arr = np.asarray(geoms, dtype=object)
    if len(arr) < 2:
        return []
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    keep = left < right
    if groups is not None:
        labels = np.asarray(groups, dtype=object)
        keep &= labels[left] == labels[right]
    left, right = left[keep], right[keep]
    inter = shapely.area(shapely.intersection(arr[left], arr[right]))
    smaller = np.minimum(shapely.area(arr[left]), shapely.area(arr[right]))
    frac = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    hits = frac > OVERLAP_TOLERANCE
    return [(int(i), int(j), float(f)) for i, j, f in zip(left[hits], right[hits], frac[hits], strict=True)]


def coverage_gap(parent: BaseGeometry, children: Sequence[BaseGeometry], subject: str) -> Issue | None:
    """Holes: parts of the parent that no child covers, reported with a point inside the largest one."""
    if not children or parent.area <= 0:
        return None
    gap = shapely.difference(parent, shapely.union_all(np.asarray(children, dtype=object)))
    frac = gap.area / parent.area
    if frac <= COVERAGE_TOLERANCE:
        return None
    largest = max(shapely.get_parts(gap), key=lambda g: g.area)
    point = largest.representative_point()
    return issue("coverage_gap", subject, percent=percent(frac), lon=round(point.x, 6), lat=round(point.y, 6))


def check_boundary(
    subject: str,
    geom: BaseGeometry,
    parent: tuple[str, BaseGeometry] | None,
    siblings: Iterable[tuple[str, BaseGeometry]],
    children: Iterable[tuple[str, BaseGeometry]],
) -> list[Issue]:
    """A new boundary for an existing area against its current parent, siblings and children."""
    out: list[Issue] = []
    if parent is not None and (found := check_inside(geom, parent[1], parent[0], subject)):
        out.append(found)
    for code, other in siblings:
        frac = overlap_fraction(geom, other) if geom.intersects(other) else 0.0
        if frac > OVERLAP_TOLERANCE:
            out.append(issue("sibling_overlap", subject, other=code, percent=percent(frac)))
    for code, child in children:
        frac = float(outside_fraction(child, geom))
        if frac >= OUTSIDE_TOLERANCE:
            out.append(issue("child_outside", subject, other=code, percent=percent(frac)))
    return out
