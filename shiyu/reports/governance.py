"""The report's sections beyond the case loop: 矛盾纠纷化解, 信访工作 and 重点人员管控 (issues 16 and 17).

Each comes from the figures its own domain computes (``shiyu.disputes.indicators``,
``shiyu.petitions.service.indicators``, ``shiyu.keypersons.plans``), narrowed to the report's area, and only for
a reader who holds that domain's view permission over the area: the session's scope already hides what the
reader may not see, and a section of zeros would read as "nothing happened". The key persons' section holds
counts and rates only — no name, no record — like the dashboard it mirrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.disputes import indicators as dispute_indicators
from shiyu.disputes.models import VIEW as DISPUTE_VIEW
from shiyu.keypersons import plans
from shiyu.keypersons.models import VIEW as KEYPERSON_VIEW
from shiyu.keypersons.models import KeyPersonGroup
from shiyu.petitions import service as petitions
from shiyu.petitions.models import VIEW as PETITION_VIEW


@dataclass
class Section:
    """A titled table: the report writers render every section alike."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    note: str = ""


def pct(value: float | None) -> str:
    """A 0–1 rate (the disputes' and petitions' own) as text."""
    return "—" if value is None else f"{value * 100:.1f}%"


def sections(session: Session, principal: Principal, tz: ZoneInfo, area_path: str, start: date, end: date,
             now: datetime) -> list[Section]:
    """The sections for the area at ``area_path`` over the local dates ``start`` to ``end`` (both included)."""
    out = []
    if principal.can(DISPUTE_VIEW, area_path):
        out.append(_disputes(session, tz, area_path, start, end))
    if principal.can(PETITION_VIEW, area_path):
        out.append(_petitions(session, tz, area_path, start, end))
    if principal.can(KEYPERSON_VIEW, area_path):
        out.append(_key_persons(session, area_path, start, now.astimezone(tz)))
    return out


def _disputes(session: Session, tz: ZoneInfo, area_path: str, start: date, end: date) -> Section:
    since = datetime.combine(start, datetime.min.time(), tz)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    d = dispute_indicators.compute(session, since, until, area_path=area_path)
    levels = "、".join(f"{_LEVELS.get(level, level)}{pct(share)}" for level, share in d["resolved_by_level"].items())
    return Section("矛盾纠纷化解", ["指标", "本期"], [
        ["登记纠纷（件）", d["total"]], ["受理（件）", d["accepted"]], ["化解（件）", d["resolved"]],
        ["化解率", pct(d["resolution_rate"])], ["调解成功率", pct(d["success_rate"])],
        ["排查率", pct(d["screening_rate"])], ["各级化解占比", levels or "—"], ["民转刑（件）", d["criminal_count"]]],
        note="按期间内登记的纠纷统计其当前状态；化解率＝达成协议÷受理，调解成功率＝达成协议÷调解已结束。")


_LEVELS = {"1": "市级", "2": "区县级", "3": "街道级", "4": "社区级"}


def _petitions(session: Session, tz: ZoneInfo, area_path: str, start: date, end: date) -> Section:
    p = petitions.indicators(session, tz, since=start, until=end, area_path=area_path)
    return Section("信访工作", ["指标", "本期"], [
        ["登记信访（件）", p["total"]], ["初信初访一次性化解率", pct(p["first_time_resolved_rate"])],
        ["按期受理率", pct(p["on_time_acceptance_rate"])], ["按期办结率", pct(p["on_time_closure_rate"])],
        ["重复信访率", pct(p["repeat_rate"])]],
        note="按期间内登记的信访事项统计其当前办理情况。")


def _key_persons(session: Session, area_path: str, start: date, now: datetime) -> Section:
    groups = {g.code: g.name_zh for g in session.scalars(select(KeyPersonGroup).order_by(KeyPersonGroup.order))}
    rows = plans.indicators(session, now.date(), len(area_path), area_path, start)
    table = []
    for row in sorted(rows, key=lambda r: list(groups).index(r["group_code"]) if r["group_code"] in groups else 99):
        table.append([groups.get(row["group_code"], row["group_code"]), row["active"], row["enrolled"],
                      _percent(row["dynamic_rate"]), _percent(row["control_rate"]), row["visits"],
                      _percent(row["on_time_rate"])])
    active, in_hand = sum(r["active"] for r in rows), sum(r["in_hand"] for r in rows)
    enrolled, visits = sum(r["enrolled"] for r in rows), sum(r["visits"] for r in rows)
    on_time = sum(r["on_time"] for r in rows)
    table.append(["合计", active, enrolled, _percent(plans.rate(in_hand, active)),
                  _percent(plans.rate(enrolled, active)), visits, _percent(plans.rate(on_time, visits))])
    return Section("重点人员管控", ["类别", "在册", "在管", "动态掌控率", "管控率", "走访", "按期走访率"], table,
                   note=f"在册、在管为截至{now:%Y-%m-%d %H:%M}的现状；动态掌控率＝在管且未脱管÷在册（在管与失联），"
                        "走访为期间开始以来的走访。只含人数和比率，不含个人信息。")


def _percent(value: Any) -> str:
    """The key persons' rates are percentages already (``plans.rate``)."""
    return "—" if value is None else f"{value:.1f}%"
