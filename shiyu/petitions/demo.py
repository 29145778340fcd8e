"""Demo petitions for the demo city: a handful in the first street's first community, in mixed states —
one waiting for acceptance past its limit, one not accepted, one being handled by a 包案 leader, one
answered and evaluated unsatisfied with 复查 running, one a repeat petition — and a reception day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import transaction
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.petitions import service
from shiyu.petitions.service import PetitionerIn, ReceptionIn, Registration, Step

# (channel, days ago, demands, unit complained about, petitioners as (name, ID number, phone), group size,
#  the actions taken with their notes)
PETITIONS: tuple[tuple[str, int, str, str, tuple[tuple[str, str, str], ...], int, tuple[tuple[str, Any], ...]],
                 ...] = (
    ("visit", 20, "小区电梯停运三个月，物业以维修基金未批为由拒绝维修，请求督促尽快修复。", "某物业服务公司",
     (("陈建国", "350203196505120016", "13805920011"),), 1, ()),
    ("letter", 12, "对法院已生效判决的执行结果不服，要求重新审理。", "区人民法院",
     (("林美华", "350203197208150022", "13905920022"),), 1,
     (("refuse", "属于诉讼途径解决的事项，已书面告知向人民法院提出。"),)),
    ("online", 30, "工地夜间施工噪声扰民，多次投诉未果。", "某建筑工程有限公司",
     (("黄志强", "350203198003030035", "13605920033"),), 1,
     (("accept", ""), ("assign", "区住房和建设局"), ("start", ""))),
    ("visit", 45, "拖欠工资二十余人，要求企业支付欠薪。", "某电子科技有限公司",
     (("吴海燕", "350203198811200048", "13705920044"), ("郑伟", "350203199001010051", "13705920055")), 22,
     (("accept", ""), ("assign", "区人力资源和社会保障局"), ("start", ""),
      ("answer", "已责令企业于本月底前足额支付欠薪，劳动监察大队跟踪落实。"), ("evaluate", False),
      ("request_review", "信访人认为支付期限过长，请求复查。"))),
    ("phone", 3, "再次反映电梯停运问题，至今未修复。", "某物业服务公司",
     (("陈建国", "350203196505120016", "13805920011"),), 1, ()),
)


def _place(session: Session) -> Area | None:
    street = session.scalar(select(Area).where(Area.level == int(AreaLevel.STREET)).order_by(Area.code).limit(1))
    if street is None:
        return None
    return session.scalar(select(Area).where(Area.parent_id == street.id).order_by(Area.code).limit(1))


def demo(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str] | None:
    """Register the demo petitions through the service, so they carry real flags, clocks and timelines."""
    principal = Principal.system("demo")
    with transaction(factory, principal=principal, audit_off=True) as s:
        community = _place(s)
        if community is None:
            return None
        chosen = service.leaders(s, community.area_path)
        ids = []
        for channel, days, demands, unit, people, size, steps in PETITIONS:
            petition = service.register(s, principal, tz, Registration(
                area_id=community.id, channel=channel, demands=demands, complained_unit=unit, group_size=size,
                petitioners=[PetitionerIn(*p) for p in people], received_at=min(end, end - timedelta(days=days))))
            ids.append(petition.id)
            for action, value in steps:
                step = Step(note=value if isinstance(value, str) else "",
                            satisfied=value if isinstance(value, bool) else None,
                            assigned_unit=value if action == "assign" else "",
                            leader_id=chosen[0][0] if action == "assign" and chosen else None)
                if action == "assign" and not chosen:
                    break
                service.act(s, principal, tz, petition.id, action, step)
        if chosen:
            service.add_reception(s, principal, ReceptionIn(
                area_id=community.id, leader_id=chosen[0][0], day=(end - timedelta(days=7)).astimezone(tz).date(),
                place=f"{community.name}综治中心接访室", note="领导接访日", petition_ids=tuple(ids[:1])))
    return f"已登记{len(PETITIONS)}件信访事项", f"registered {len(PETITIONS)} petitions"
