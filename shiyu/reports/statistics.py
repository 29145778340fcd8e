"""统计分析: the GB/T 30428 indicators of an area for a period, with 环比 (the period before) and 同比 (the
same days a year earlier), by area level and by department — as tables that the page shows and that
"导出 Excel" writes cell for cell.

Every number is the indicator service's (``shiyu.cases.indicators``: the same facts, predicates and
formulas as the API and the weekly report), and every count or rate carries the filters of the cases
behind it (``Cell.drill``: indicator, part, area, department, category, start, end), which the page turns
into a link to the list of exactly those cases (``indicators.cases_statement``).

Comparison periods: whole calendar months compare with the months just before; a month so far (the 1st
to some day) with the same days of the previous month; any other span with the same number of days just
before it. 同比 shifts both ends back one year (29 February becomes the 28th).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.cases.indicators import service as indicators
from shiyu.cases.indicators import weights as indicator_weights
from shiyu.cases.indicators.definitions import BY_NAME, INDICATORS, Period, rate, score
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import AreaLevel
from shiyu.reports import governance

# The columns of the area and department tables (the overview lists every indicator).
TABLE_INDICATORS = ("reported", "closure_rate", "on_time_closure_rate", "overdue", "rework_rate",
                    "satisfaction_rate")
LEVELS = {"district": AreaLevel.DISTRICT, "street": AreaLevel.STREET, "community": AreaLevel.COMMUNITY,
          "grid": AreaLevel.GRID}


@dataclass
class Cell:
    value: Any
    kind: str = "text"  # text | count | rate | score | points (a change in percentage points) | ratio (relative)
    drill: dict[str, Any] | None = None  # the filters of the cases behind the number
    good: bool | None = None  # a change: whether it went the better way (None: no change, or no better way)


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Periods:
    current: Period
    previous: Period  # 环比
    year_ago: Period  # 同比


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def periods(start: date, end: date) -> Periods:
    current = Period(start, end)
    following = end + timedelta(days=1)
    if start.day == 1 and following.day == 1:  # whole calendar months
        months = (following.year - start.year) * 12 + following.month - start.month
        first = date(start.year + (start.month - 1 - months) // 12, (start.month - 1 - months) % 12 + 1, 1)
        previous = Period(first, start - timedelta(days=1))
    elif start.day == 1 and (start.year, start.month) == (end.year, end.month):  # this month so far
        first = (start - timedelta(days=1)).replace(day=1)
        previous = Period(first, min(first + (end - start), start - timedelta(days=1)))
    else:
        length = (end - start).days + 1
        previous = Period(start - timedelta(days=length), start - timedelta(days=1))
    return Periods(current, previous, Period(_year_back(start), _year_back(end)))


# Shown as the number of cases, like its name says (超期案件数); its share is the numerator over the denominator.
COUNTED = frozenset({"overdue"})


def _is_rate(name: str) -> bool:
    return BY_NAME[name].is_rate and name not in COUNTED


def _value(counts: dict[str, int], name: str) -> float | int | None:
    ind = BY_NAME[name]
    return rate(counts, ind) if _is_rate(name) else counts[ind.numerator]


def change(value: float | int | None, before: float | int | None, is_rate: bool,
           higher_is_better: bool | None = None) -> Cell:
    """A rate's change in percentage points, a count's relative change (none without a base)."""
    if value is None or before is None:
        return Cell(None, "points" if is_rate else "ratio")
    delta = value - before
    cell = Cell(delta, "points") if is_rate else Cell(delta / before if before else None, "ratio")
    if cell.value and higher_is_better is not None:
        cell.good = (delta > 0) == higher_is_better
    return cell


def _figure(name: str, counts: dict[str, int], drill: dict[str, Any]) -> Cell:
    return Cell(_value(counts, name), "rate" if _is_rate(name) else "count",
                {**drill, "indicator": name, "part": "numerator"})


def _drill(q: indicators.Query) -> dict[str, Any]:
    return dict(q.params)


@dataclass
class Statistics:
    periods: Periods
    overview: Table
    level: str  # the area level ranked
    areas: Table
    departments: Table
    score: float | None
    sections: list[governance.Section]  # 矛盾纠纷化解, 信访工作, 重点人员管控 where the caller may see them

    @property
    def tables(self) -> dict[str, Table]:
        return {t.name: t for t in (self.overview, self.areas, self.departments)}


def _resolve(session: Session, principal: Principal, tz: ZoneInfo, filters: dict[str, Any],
             period: Period) -> indicators.Query:
    return indicators.resolve(session, principal, tz, **filters, start=period.start, end=period.end)


def overview(session: Session, q: indicators.Query, pq: indicators.Query, yq: indicators.Query,
             lang: str) -> Table:
    now, before, year = (indicators.totals(session, x) for x in (q, pq, yq))
    zh = lang != "en"
    table = Table("overview", "指标总览" if zh else "Indicators",
                  ["指标", "计算方法", "本期", "分子", "分母", "上期", "环比", "去年同期", "同比"] if zh else
                  ["indicator", "formula", "this period", "numerator", "denominator", "previous", "change",
                   "a year ago", "change"])
    for ind in INDICATORS:
        value, prev, last_year = _value(now, ind.name), _value(before, ind.name), _value(year, ind.name)
        kind, is_rate = ("rate", True) if _is_rate(ind.name) else ("count", False)
        better = ind.higher_is_better if ind.is_rate else None  # more reports are neither better nor worse
        drill = {**_drill(q), "indicator": ind.name}
        denominator = Cell(now[ind.denominator], "count", {**drill, "part": "denominator"}) if ind.denominator \
            else Cell(None)
        table.rows.append([
            Cell(ind.zh if zh else ind.en), Cell(ind.formula_zh if zh else ind.formula_en),
            _figure(ind.name, now, _drill(q)), Cell(now[ind.numerator], "count", {**drill, "part": "numerator"}),
            denominator, Cell(prev, kind, {**_drill(pq), "indicator": ind.name, "part": "numerator"}),
            change(value, prev, is_rate, better),
            Cell(last_year, kind, {**_drill(yq), "indicator": ind.name, "part": "numerator"}),
            change(value, last_year, is_rate, better),
        ])
    return table


def _ranked(session: Session, principal: Principal, q: indicators.Query, pq: indicators.Query,
            yq: indicators.Query, level: indicators.RankLevel, key: str, name: str, title: str,
            lang: str) -> Table:
    """One row per area of ``level`` (or department): the main indicators, the score, its 环比 and 同比."""
    zh = lang != "en"
    before = {r["id"]: r["score"] for r in indicators.ranking(session, principal, pq, level)}
    year = {r["id"]: r["score"] for r in indicators.ranking(session, principal, yq, level)}
    headers = ["排名", name, *(BY_NAME[n].zh if zh else BY_NAME[n].en for n in TABLE_INDICATORS),
               "综合得分" if zh else "score", "得分环比" if zh else "score vs previous",
               "得分同比" if zh else "score vs a year ago"]
    table = Table(key, title, headers)
    for r in indicators.ranking(session, principal, q, level):
        drill = {**_drill(q), key_param(level): r["id"]}
        cells = [Cell(r["rank"], "count"), Cell(r["name"])]
        for n in TABLE_INDICATORS:
            cells.append(_figure(n, r["counts"], drill))
        cells += [Cell(r["score"], "score"), change(_pts(r["score"]), _pts(before.get(r["id"])), True, True),
                  change(_pts(r["score"]), _pts(year.get(r["id"])), True, True)]
        table.rows.append(cells)
    return table


def _pts(score_value: float | None) -> float | None:
    """Scores as fractions of 100, so their change reads as points like a rate's."""
    return None if score_value is None else score_value / 100


def key_param(level: indicators.RankLevel) -> str:
    return "department_id" if level is indicators.RankLevel.DEPARTMENT else "area_id"


def build(session: Session, principal: Principal, tz: ZoneInfo, *, area_id: int | None, category_id: int | None,
          start: date, end: date, level: str, lang: str) -> Statistics:
    """The page's tables for the caller (their scoped ``session``): overview, the areas of ``level`` (or of the
    level below the chosen area, see ``level_below``) and the departments."""
    ps = periods(start, end)
    filters = {"area_id": area_id, "category_id": category_id}
    q, pq, yq = (_resolve(session, principal, tz, filters, p) for p in (ps.current, ps.previous, ps.year_ago))
    zh = lang != "en"
    rank_level = indicators.RankLevel(level_below(q.area_path, level))
    areas = _ranked(session, principal, q, pq, yq, rank_level, "areas", "区域" if zh else "area",
                    ("按区域" if zh else "By area"), lang)
    departments = _ranked(session, principal, q, pq, yq, indicators.RankLevel.DEPARTMENT, "departments",
                          "部门" if zh else "department", "按部门" if zh else "By department", lang)
    paths = principal.paths_with("indicator.view")
    area_path = q.area_path or (paths[0] if len(paths) == 1 else None)
    sections = governance.sections(session, principal, tz, area_path, start, end, utcnow(), lang) if area_path else []
    return Statistics(ps, overview(session, q, pq, yq, lang), rank_level.value, areas, departments,
                      score(indicators.totals(session, q), indicator_weights.current(session)), sections)


def level_below(area_path: str | None, wanted: str) -> str:
    """``wanted`` if it lies below the chosen area (``area_path``), else the level just below it: a row must
    never carry a larger area's name over the part of it that was chosen."""
    depth = len([c for c in (area_path or "").split("/") if c])  # the chosen area's level + 1
    names = list(LEVELS)
    if wanted in LEVELS and LEVELS[wanted] >= depth:
        return wanted
    return names[min(max(depth - 1, 0), len(names) - 1)]


def workbook(tables: list[Table], heading: str) -> bytes:
    """The tables as one sheet each, numbers as numbers (rates and changes as percentages). openpyxl is
    imported here, on export: with the module it cost every process and command 0.2 s to start."""
    from openpyxl import Workbook

    from shiyu.reports.excel import PERCENT, append_table, fit_widths

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append([heading])
        append_table(sheet, table.headers, [[c.value for c in row] for row in table.rows])
        for r, row in enumerate(table.rows):  # data starts on row 3, below the heading and the header
            for c, cell in enumerate(row):
                if cell.kind in ("rate", "points", "ratio"):
                    sheet.cell(3 + r, c + 1).number_format = PERCENT
        fit_widths(sheet)
    data = BytesIO()
    book.save(data)
    return data.getvalue()
