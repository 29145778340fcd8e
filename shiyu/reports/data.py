"""What a weekly or monthly report says, gathered once from the database and then written as XLSX or DOCX.

Every figure comes from the indicator code (``shiyu.cases.indicators``): the same fact tables, the same
component predicates and the same formulas as the statistics API, for the period and for the period
before it (环比). So the report's 结案率 for a week is the API's 结案率 for the same days, to the digit.
Two sections describe the present rather than the period, and say so: 超期督办 lists the cases open and
overdue or under supervision at the moment the report is made, and 热点问题 lists the hot issues (grouped
daily by ``shiyu.triage.hot.hot_cases``) with reports in the period.

Scope: the caller's principal decides. The area must lie inside their ``indicator.view`` grants (else a
``Forbidden`` that names the area), and every row is read through their scoped session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.indicators import service as indicators
from shiyu.cases.indicators import weights as indicator_weights
from shiyu.cases.indicators.definitions import BY_NAME, COMPONENTS, rate, score
from shiyu.cases.models import OPEN_STATES, Case, CaseState
from shiyu.cases.workflow.table import STATE_LABELS
from shiyu.core.errors import Forbidden, NotFound
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import LEVEL_LABELS, Area, AreaLevel
from shiyu.org.units.service import department_names
from shiyu.reports import governance
from shiyu.reports.governance import Section
from shiyu.reports.periods import KIND_ZH, ReportPeriod
from shiyu.triage.hot.models import HotIssue, HotIssueStatus

UNSCOPED = {"unscoped": True}
VIEW = "indicator.view"
OVERDUE_LIST = 50  # the cases listed by name under 超期督办 (the counts cover all of them)
HOT_LIST = 10
RED = 2  # Case.step_alert: 2 overdue, 3 overdue long enough to be escalated
YELLOW = 1
CHILD_RANK = {AreaLevel.CITY: indicators.RankLevel.DISTRICT, AreaLevel.DISTRICT: indicators.RankLevel.STREET,
              AreaLevel.STREET: indicators.RankLevel.COMMUNITY, AreaLevel.COMMUNITY: indicators.RankLevel.GRID}
# The report's sections, in order (also the workbook's sheet names: a sheet name cannot hold the "/" of GB/T).
SECTIONS = ("总体情况", "评价指标", "分类统计", "区域排名", "超期督办", "热点问题")


@dataclass
class Figure:
    """One indicator in the period and the period before; ``change`` is the 环比: percentage points for a
    rate, the relative change for a count (None when the previous period had nothing to compare with)."""

    name: str
    label: str
    formula: str
    is_rate: bool
    higher_is_better: bool
    numerator: int
    denominator: int | None
    value: float | int | None
    previous: float | int | None
    change: float | None


@dataclass
class CategoryRow:
    code: str
    name: str
    reported: int
    previous_reported: int
    change: float | None
    closed: int
    closure_rate: float | None
    on_time_closure_rate: float | None
    overdue: int
    share: float | None  # of the area's reports in the period


@dataclass
class RankRow:
    rank: int
    code: str
    name: str
    score: float | None
    previous_score: float | None
    reported: int
    closure_rate: float | None
    on_time_closure_rate: float | None
    overdue_rate: float | None  # cases with an overdue step ÷ registered
    satisfaction_rate: float | None


@dataclass
class OverdueRow:
    tracking_code: str
    category: str
    place: str
    department: str
    state: str
    due_at: datetime | None  # local time
    overdue_days: float | None  # natural days past the due instant
    supervised: bool


@dataclass
class HotRow:
    title: str
    place: str
    category: str
    size: int
    reporters: int
    growth: float
    heat: float
    status: str


@dataclass
class Report:
    area_code: str
    area_name: str
    area_level: str
    period: ReportPeriod
    previous: ReportPeriod
    generated_at: datetime  # local time
    totals: dict[str, int]
    previous_totals: dict[str, int]
    figures: list[Figure]
    score: float | None
    previous_score: float | None
    categories: list[CategoryRow]
    child_level: str | None  # the level ranked under 区域排名 (None for a grid)
    areas: list[RankRow]
    departments: list[RankRow]
    overdue_open: int
    supervised_open: int
    yellow_open: int
    overdue_cases: list[OverdueRow]
    hot: list[HotRow]
    daily: list[tuple[date, int]]  # reports per day of the period
    previous_daily: list[tuple[date, int]]
    notes: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)  # 矛盾纠纷, 信访, 重点人员 for readers who may see them

    @property
    def title(self) -> str:
        return f"{self.area_name}社会治理{KIND_ZH[self.period.kind]} {self.period.title_zh}"

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    @property
    def summary(self) -> str:
        """The 总体情况 paragraph: the headline figures with their 环比, in one sentence each."""
        unit = "上周" if self.period.kind.value == "weekly" else "上月"
        parts = [f"{self.period.title_zh}，{self.area_name}共上报案件{self.totals['reported']}件"
                 f"（{unit}{self.previous_totals['reported']}件，环比{change_text(self.figure('reported'))}），"
                 f"立案{self.totals['registered']}件，结案{self.totals['closed']}件"]
        for name in ("closure_rate", "on_time_closure_rate", "satisfaction_rate"):
            f = self.figure(name)
            parts.append(f"{f.label}{value_text(f)}（环比{change_text(f)}）")
        overdue = self.figure("overdue")
        parts.append(f"有环节超期的案件{overdue.numerator}件，超期率{value_text(overdue)}（环比{change_text(overdue)}）")
        if self.score is not None:
            parts.append(f"综合评价得分{self.score:.1f}分")
        return "，".join(parts[:2]) + "；" + "，".join(parts[2:]) + "。"


def value_text(f: Figure) -> str:
    if f.value is None:
        return "—"
    return f"{f.value * 100:.1f}%" if f.is_rate else f"{f.value}"


def change_text(f: Figure) -> str:
    if f.change is None:
        return "—"
    if f.is_rate:
        return f"{f.change * 100:+.1f}个百分点"
    return f"{f.change * 100:+.1f}%"


def _change(value: float | int | None, previous: float | int | None, is_rate: bool) -> float | None:
    if value is None or previous is None:
        return None
    if is_rate:
        return value - previous
    return (value - previous) / previous if previous else None


def _value(counts: dict[str, int], name: str) -> float | int | None:
    indicator = BY_NAME[name]
    return rate(counts, indicator) if indicator.is_rate else counts[indicator.numerator]


def _pairs(session: Session, stmt: Any, options: dict[str, Any] | None = None) -> dict[Any, Any]:
    """A two-column query as a dict (names by id)."""
    return {k: v for k, v in session.execute(stmt, execution_options=options or {})}


def find_area(session: Session, principal: Principal, code: str) -> Area:
    """The area with this division code, if the caller may see its figures: an unknown code and an area
    outside the caller's grants are told apart, with the code, so a typo is not mistaken for a missing grant."""
    code = (code or "").strip()
    area = session.scalar(select(Area).where(Area.code == code), execution_options=UNSCOPED)
    if area is None:
        raise NotFound("report_area_unknown", "没有区划代码为“{area_code}”的区域",
                       "There is no area with the code '{area_code}'", detail={"field": "area", "code": code},
                       area_code=code)
    if not principal.can(VIEW, area.area_path):
        raise Forbidden("report_not_granted", "您没有{area}（{area_code}）的统计权限，只能导出您所辖区域的报告",
                        "You hold no statistics grant over {area} ({area_code}); reports cover only your own areas",
                        detail={"field": "area", "code": code}, area=area.name, area_code=code)
    return area


def build(session: Session, principal: Principal, tz: ZoneInfo, area_code: str, period: ReportPeriod, *,
          now: datetime | None = None, with_sections: bool = True) -> Report:
    """The report of ``area_code`` for ``period``, as ``principal`` may see it (``session`` carries them).
    ``with_sections=False`` leaves out the disputes', petitions' and key persons' chapters: a filed report is
    built by the system but read by anyone with the area's statistics, who may hold none of those rights."""
    area = find_area(session, principal, area_code)
    now = now or utcnow()
    previous = period.previous()
    q = indicators.resolve(session, principal, tz, area_id=area.id, start=period.start, end=period.end)
    pq = indicators.resolve(session, principal, tz, area_id=area.id, start=previous.start, end=previous.end)
    totals, previous_totals = indicators.totals(session, q), indicators.totals(session, pq)
    weights = indicator_weights.current(session)
    figures = []
    for f in indicators.figures(totals, "zh"):
        before = _value(previous_totals, f["name"])
        value = f["rate"] if f["is_rate"] else f["numerator"]
        figures.append(Figure(f["name"], f["label"], f["formula"], f["is_rate"], f["higher_is_better"],
                              f["numerator"], f["denominator"], value, before, _change(value, before, f["is_rate"])))
    child = CHILD_RANK.get(AreaLevel(area.level))
    return Report(
        area_code=area.code, area_name=area.name, area_level=LEVEL_LABELS[AreaLevel(area.level)][0],
        period=period, previous=previous, generated_at=now.astimezone(tz), totals=totals,
        previous_totals=previous_totals, figures=figures, score=score(totals, weights),
        previous_score=score(previous_totals, weights), categories=_categories(session, q, pq, totals),
        child_level=LEVEL_LABELS[AreaLevel(area.level + 1)][0] if child else None,
        areas=_ranking(session, principal, q, pq, child) if child else [],
        departments=_ranking(session, principal, q, pq, indicators.RankLevel.DEPARTMENT),
        **_overdue(session, area, now, tz), hot=_hot(session, area, q),
        daily=_daily(session, q), previous_daily=_daily(session, pq),
        sections=governance.sections(session, principal, tz, area.area_path, period.start, period.end, now)
        if with_sections else [],
    )


def _categories(session: Session, q: indicators.Query, pq: indicators.Query,
                totals: dict[str, int]) -> list[CategoryRow]:
    """Per major class (its minor classes summed), most reported first."""
    majors = {c.id: c for c in session.scalars(select(Category).where(Category.parent_id.is_(None)))}
    parent = _pairs(session, select(Category.id, Category.parent_id).where(Category.parent_id.is_not(None)))

    def per_major(groups: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        for category_id, counts in groups.items():
            major = parent.get(category_id, category_id)
            sums = out.setdefault(major, dict.fromkeys(COMPONENTS, 0))
            for name, value in counts.items():
                sums[name] += value
        return out

    now, before = per_major(indicators.category_groups(session, q)), per_major(indicators.category_groups(session, pq))
    rows = []
    for major_id in set(now) | set(before):
        c = now.get(major_id, dict.fromkeys(COMPONENTS, 0))
        p = before.get(major_id, dict.fromkeys(COMPONENTS, 0))
        if not c["reported"] and not p["reported"]:
            continue
        major = majors.get(major_id)
        rows.append(CategoryRow(
            code=major.code if major else "", name=major.name_zh if major else str(major_id), reported=c["reported"],
            previous_reported=p["reported"], change=_change(c["reported"], p["reported"], False), closed=c["closed"],
            closure_rate=_value(c, "closure_rate"), on_time_closure_rate=_value(c, "on_time_closure_rate"),
            overdue=c["overdue"], share=c["reported"] / totals["reported"] if totals["reported"] else None))
    rows.sort(key=lambda r: (-r.reported, -r.previous_reported, r.code))
    return rows


def _ranking(session: Session, principal: Principal, q: indicators.Query, pq: indicators.Query,
             level: indicators.RankLevel) -> list[RankRow]:
    """The indicator ranking (composite score, best first) with last period's score beside each row."""
    before = {r["id"]: r["score"] for r in indicators.ranking(session, principal, pq, level)}
    return [RankRow(rank=r["rank"], code=r["code"], name=r["name"], score=r["score"],
                    previous_score=before.get(r["id"]),
                    reported=int(r["values"]["reported"] or 0), closure_rate=r["values"]["closure_rate"],
                    on_time_closure_rate=r["values"]["on_time_closure_rate"], overdue_rate=r["values"]["overdue"],
                    satisfaction_rate=r["values"]["satisfaction_rate"])
            for r in indicators.ranking(session, principal, q, level)]


def _overdue(session: Session, area: Area, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Open cases of the area that are overdue (red) or under supervision now, most overdue first."""
    open_here = [Case.area_path.startswith(area.area_path, autoescape=True),
                 Case.state.in_([s.value for s in OPEN_STATES])]
    counts = [func.coalesce(func.sum(case((cond, 1), else_=0)), 0)
              for cond in (Case.step_alert >= RED, Case.step_alert == YELLOW, Case.supervised.is_(True))]
    red, yellow, supervised = session.execute(select(*counts).select_from(Case).where(
        *open_here, (Case.step_alert >= YELLOW) | Case.supervised.is_(True))).one()
    listed = list(session.scalars(
        select(Case).where(*open_here, (Case.step_alert >= RED) | Case.supervised.is_(True))
        .order_by(Case.step_due_at.asc().nulls_last(), Case.id).limit(OVERDUE_LIST)))
    categories = _pairs(session, select(Category.id, Category.name_zh)
                        .where(Category.id.in_({c.category_id for c in listed})))
    places = _pairs(session, select(Area.id, Area.name).where(Area.id.in_({c.grid_id for c in listed})), UNSCOPED)
    departments = department_names(session, [c.main_department_id for c in listed])
    rows = []
    for c in listed:
        late = (now - c.step_due_at).total_seconds() / 86400 if c.step_due_at and c.step_due_at < now else None
        rows.append(OverdueRow(
            tracking_code=c.tracking_code, category=categories.get(c.category_id, ""), place=places.get(c.grid_id, ""),
            department=departments.get(c.main_department_id or 0, "—"), state=STATE_LABELS[CaseState(c.state)][0],
            due_at=c.step_due_at.astimezone(tz) if c.step_due_at else None,
            overdue_days=round(late, 1) if late is not None else None, supervised=c.supervised))
    return {"overdue_open": red or 0, "yellow_open": yellow or 0, "supervised_open": supervised or 0,
            "overdue_cases": rows}


def _hot(session: Session, area: Area, q: indicators.Query) -> list[HotRow]:
    """The hottest issues of the area with reports in the period (dismissed ones left out)."""
    start, end = q.period.bounds(q.tz)
    issues = list(session.scalars(
        select(HotIssue).where(HotIssue.area_path.startswith(area.area_path, autoescape=True),
                               HotIssue.status != HotIssueStatus.DISMISSED.value, HotIssue.period_end >= start,
                               HotIssue.period_start < end)
        .order_by(HotIssue.heat.desc(), HotIssue.id).limit(HOT_LIST)))
    if not issues:
        return []
    categories = _pairs(session, select(Category.id, Category.name_zh)
                        .where(Category.id.in_({i.category_id for i in issues if i.category_id})))
    places = _pairs(session, select(Area.id, Area.name).where(Area.id.in_({i.place_area_id for i in issues})),
                    UNSCOPED)
    status = {HotIssueStatus.OPEN: "待研判", HotIssueStatus.CONFIRMED: "已确认"}
    return [HotRow(title=i.title, place=places.get(i.place_area_id, ""), category=categories.get(i.category_id, ""),
                   size=i.size, reporters=i.reporters, growth=i.growth, heat=i.heat,
                   status=status.get(HotIssueStatus(i.status), i.status)) for i in issues]


def _daily(session: Session, q: indicators.Query) -> list[tuple[date, int]]:
    return [(p["start"], int(p["values"]["reported"] or 0))
            for p in indicators.trend(session, q, indicators.Bucket.DAY)]
