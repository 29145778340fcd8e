"""The report's sections beyond the case loop: 矛盾纠纷化解, 信访工作, 重点人员管控 and 重点人员集中清查 (issues 16
and 17).

Each comes from the figures its own domain computes (``shiyu.disputes.indicators``,
``shiyu.petitions.service.indicators``, ``shiyu.keypersons.plans``), narrowed to the report's area, and only for
a reader who holds that domain's view permission over the area: the session's scope already hides what the
reader may not see, and a section of zeros would read as "nothing happened". The key persons' sections hold
counts and rates only — no name, no record — like the dashboard they mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal
from shiyu.disputes import indicators as dispute_indicators
from shiyu.disputes.models import VIEW as DISPUTE_VIEW
from shiyu.keypersons import dashboard as kp_dashboard
from shiyu.keypersons import plans
from shiyu.keypersons.models import VIEW as KEYPERSON_VIEW
from shiyu.keypersons.models import KeyPersonGroup
from shiyu.org.areas.models import Area
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


# Every label in both languages (the reports are written in Chinese; the statistics page follows the reader).
LABELS: dict[str, tuple[str, str]] = {
    "indicator": ("指标", "Indicator"), "value": ("本期", "This period"),
    "disputes": ("矛盾纠纷化解", "Disputes resolved"), "d_total": ("登记纠纷（件）", "Registered"),
    "d_accepted": ("受理（件）", "Accepted"), "d_resolved": ("化解（件）", "Resolved"),
    "d_resolution": ("化解率", "Resolution rate"), "d_success": ("调解成功率", "Mediation success rate"),
    "d_screening": ("排查率", "Screening rate"), "d_levels": ("各级化解占比", "Resolved at each level"),
    "d_criminal": ("民转刑（件）", "Turned criminal"),
    "d_note": ("按期间内登记的纠纷统计其当前状态；化解率＝达成协议÷受理，调解成功率＝达成协议÷调解已结束。",
               "Disputes registered in the period, as they stand now; resolution = agreements ÷ accepted, "
               "success = agreements ÷ mediations ended."),
    "petitions": ("信访工作", "Petitions"), "p_total": ("登记信访（件）", "Registered"),
    "p_first": ("初信初访一次性化解率", "First petitions resolved at once"),
    "p_accept": ("按期受理率", "Accepted on time"), "p_close": ("按期办结率", "Answered on time"),
    "p_repeat": ("重复信访率", "Repeat petitions"),
    "p_note": ("按期间内登记的信访事项统计其当前办理情况。", "Petitions registered in the period, as they stand now."),
    "keypersons": ("重点人员管控", "Key persons"), "k_group": ("类别", "Group"), "k_active": ("在册", "On file"),
    "k_enrolled": ("在管", "In care"), "k_dynamic": ("动态掌控率", "In hand"), "k_control": ("管控率", "Control rate"),
    "k_visits": ("走访", "Visits"), "k_on_time": ("按期走访率", "Visits on time"), "k_total": ("合计", "Total"),
    "k_note": ("在册、在管为截至{now}的现状；动态掌控率＝在管且未脱管÷在册（在管与失联），走访为期间开始以来的走访。"
               "只含人数和比率，不含个人信息。",
               "On file and in care as of {now}; in hand = in care and not out of hand ÷ on file (in care or lost "
               "contact); visits since the period began. Counts and rates only, no personal data."),
    "census": ("重点人员集中清查", "Key-person census"), "c_area": ("区域", "Area"),
    "c_sent": ("下发（人次）", "Sent"),
    "c_checked": ("已清查", "Checked"), "c_unable": ("无法清查", "Unable"), "c_rate": ("清查完成率", "Completion"),
    "c_note": ("期间内下发的集中清查任务，按截至报告时的办理情况统计；清查完成率＝已清查÷下发。"
               "只含人次和比率，不含个人信息。",
               "Census items sent in the period, as they stand now; completion = checked ÷ sent. Counts and rates "
               "only, no personal data."),
}
_LEVELS = {"1": ("市级", "city "), "2": ("区县级", "district "), "3": ("街道级", "street "),
           "4": ("社区级", "community ")}


def _l(lang: str, key: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


def sections(session: Session, principal: Principal, tz: ZoneInfo, area_path: str, start: date, end: date,
             now: datetime, lang: str = "zh") -> list[Section]:
    """The sections for the area at ``area_path`` over the local dates ``start`` to ``end`` (both included)."""
    out = []
    if principal.can(DISPUTE_VIEW, area_path):
        out.append(_disputes(session, tz, area_path, start, end, lang))
    if principal.can(PETITION_VIEW, area_path):
        out.append(_petitions(session, tz, area_path, start, end, lang))
    if principal.can(KEYPERSON_VIEW, area_path):
        out.append(_key_persons(session, area_path, start, now.astimezone(tz), lang))
        out.append(_census(session, tz, area_path, start, end, lang))
    return out


def _disputes(session: Session, tz: ZoneInfo, area_path: str, start: date, end: date, lang: str) -> Section:
    since = datetime.combine(start, datetime.min.time(), tz)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    d = dispute_indicators.compute(session, since, until, area_path=area_path)
    level = 1 if lang == "en" else 0
    levels = ("、" if level == 0 else ", ").join(
        f"{_LEVELS[k][level] if k in _LEVELS else k}{pct(share)}" for k, share in d["resolved_by_level"].items())
    rows = [("d_total", d["total"]), ("d_accepted", d["accepted"]), ("d_resolved", d["resolved"]),
            ("d_resolution", pct(d["resolution_rate"])), ("d_success", pct(d["success_rate"])),
            ("d_screening", pct(d["screening_rate"])), ("d_levels", levels or "—"),
            ("d_criminal", d["criminal_count"])]
    return Section(_l(lang, "disputes"), [_l(lang, "indicator"), _l(lang, "value")],
                   [[_l(lang, key), value] for key, value in rows], note=_l(lang, "d_note"))


def _petitions(session: Session, tz: ZoneInfo, area_path: str, start: date, end: date, lang: str) -> Section:
    p = petitions.indicators(session, tz, since=start, until=end, area_path=area_path)
    rows = [("p_total", p["total"]), ("p_first", pct(p["first_time_resolved_rate"])),
            ("p_accept", pct(p["on_time_acceptance_rate"])), ("p_close", pct(p["on_time_closure_rate"])),
            ("p_repeat", pct(p["repeat_rate"]))]
    return Section(_l(lang, "petitions"), [_l(lang, "indicator"), _l(lang, "value")],
                   [[_l(lang, key), value] for key, value in rows], note=_l(lang, "p_note"))


def _key_persons(session: Session, area_path: str, start: date, now: datetime, lang: str) -> Section:
    groups = {g.code: (g.name_en if lang == "en" else g.name_zh)
              for g in session.scalars(select(KeyPersonGroup).order_by(KeyPersonGroup.order))}
    rows = plans.indicators(session, now.date(), len(area_path), area_path, start)
    table = []
    for row in sorted(rows, key=lambda r: list(groups).index(r["group_code"]) if r["group_code"] in groups else 99):
        table.append([groups.get(row["group_code"], row["group_code"]), row["active"], row["enrolled"],
                      _percent(row["dynamic_rate"]), _percent(row["control_rate"]), row["visits"],
                      _percent(row["on_time_rate"])])
    active, in_hand = sum(r["active"] for r in rows), sum(r["in_hand"] for r in rows)
    enrolled, visits = sum(r["enrolled"] for r in rows), sum(r["visits"] for r in rows)
    on_time = sum(r["on_time"] for r in rows)
    table.append([_l(lang, "k_total"), active, enrolled, _percent(plans.rate(in_hand, active)),
                  _percent(plans.rate(enrolled, active)), visits, _percent(plans.rate(on_time, visits))])
    header = [_l(lang, k) for k in ("k_group", "k_active", "k_enrolled", "k_dynamic", "k_control", "k_visits",
                                    "k_on_time")]
    return Section(_l(lang, "keypersons"), header, table,
                   note=_l(lang, "k_note").format(now=f"{now:%Y-%m-%d %H:%M}"))


def _census(session: Session, tz: ZoneInfo, area_path: str, start: date, end: date, lang: str) -> Section:
    """清查完成率 by child area for the census campaigns sent in the period, as they stand now."""
    area = session.scalar(select(Area).where(Area.area_path == area_path))
    if area is None:  # the report's own area: the reader who may see its key persons sees the area
        raise NotFound(detail={"object": "area"})
    since = datetime.combine(start, datetime.min.time(), tz)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)
    figures = kp_dashboard.census_by_child_area(session, area, since, until)
    table: list[list[Any]] = [[r["area_name"], r["sent"], r["checked"], r["unable"], _percent(r["rate"])]
                              for r in figures["areas"]]
    table.append([_l(lang, "k_total"), figures["sent"], figures["checked"], figures["unable"],
                  _percent(figures["rate"])])
    header = [_l(lang, k) for k in ("c_area", "c_sent", "c_checked", "c_unable", "c_rate")]
    return Section(_l(lang, "census"), header, table, note=_l(lang, "c_note"))


def _percent(value: Any) -> str:
    """The key persons' rates are percentages already (``plans.rate``)."""
    return "—" if value is None else f"{value:.1f}%"
