"""Demo records: the demo community's 人民调解委员会 (already a department of the demo city) becomes a mediation
organisation with three mediators — one of them the ``demo_mediator`` login — the street gets its 调委会 with an
expert, and the community's grids get a handful of disputes in mixed states, walked through the same engine
the desk uses (so their timelines, agreements and referrals are real)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import transaction
from shiyu.core.scoping import Principal
from shiyu.disputes import service, workflow
from shiyu.disputes.models import OrgKind, PartyKind, PartyRole, Source
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.org.units.models import Department

# (title, type, parties (role, name), risk signals, the actions to walk, amount)
_DISPUTES: tuple[tuple[str, str, tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...], int | None], ...] = (
    ("楼上漏水致楼下天花板受损", "neighbour", (("applicant", "陈建平"), ("respondent", "刘秀英")), (),
     ("assign", "start", "agree", "perform", "follow_up", "close"), 3200),
    ("宠物犬噪音扰民", "neighbour", (("applicant", "黄丽华"), ("respondent", "周志强")), (),
     ("assign", "start", "agree", "perform"), None),
    ("装修工人工资拖欠", "labour_wages", (("applicant", "吴海涛"), ("respondent", "林志明")), ("repeated",),
     ("assign", "start"), 18600),
    ("物业费与停车位纠纷", "property", (("applicant", "郑美玲"), ("respondent", "徐国庆")), (),
     ("assign",), None),
    ("宅基地边界争议", "housing", (("applicant", "何文斌"), ("respondent", "高桂兰")), ("threats",),
     ("assign", "start", "fail", "refer"), None),
    ("夫妻离婚财产分割", "family", (("applicant", "罗晓燕"), ("respondent", "马俊杰")), (), (), None),
)
_FIELDS: dict[str, dict[str, Any]] = {
    "agree": {"terms": "一、被申请人于七日内赔偿申请人维修费用。\n二、双方今后互谅互让，不再因此事发生争执。"},
    "follow_up": {"performed": True, "satisfied": True, "residual_risk": False},
    "refer": {"channel": "court", "counterpart": "区人民法院诉讼服务中心", "external_ref": ""},
}
_NOTES = {"fail": "双方对边界认定分歧较大，调解不成", "refer": "引导当事人向人民法院起诉",
          "follow_up": "电话回访，赔偿已到位，双方满意"}


def demo(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str] | None:
    with transaction(factory, principal=Principal.system("demo"), audit_off=True) as s:
        service.ensure_types(s)
        grid = s.scalar(select(Area).join(Grant, Grant.area_id == Area.id).join(User, User.id == Grant.user_id)
                        .where(User.username == "demo_grid_worker"))
        mediator_user = s.scalar(select(User.id).where(User.username == "demo_mediator"))
        if grid is None or grid.parent_id is None:
            return None
        community = s.get(Area, grid.parent_id)
        assert community is not None and community.parent_id is not None
        committee = s.scalar(select(Department).where(Department.area_id == community.id,
                                                      Department.code.endswith("-tjwh")))
        system = Principal.system("demo")
        org = service.create_org(s, system, area_id=community.id, kind=OrgKind.VILLAGE,
                                 name=committee.name if committee else f"{community.name}人民调解委员会",
                                 phone="0592-5551234", department_id=committee.id if committee else None)
        street_org = service.create_org(s, system, area_id=community.parent_id, kind=OrgKind.TOWNSHIP,
                                        name="街道人民调解委员会", phone="0592-5556789")
        lead = service.create_mediator(s, system, org_id=org.id, name="王建国", user_id=mediator_user,
                                       specialties=("neighbour", "family", "property"),
                                       intro="社区调委会主任，从事人民调解十二年")
        service.create_mediator(s, system, org_id=org.id, name="李淑芬", specialties=("family",),
                                intro="退休教师，擅长婚姻家庭纠纷")
        service.create_mediator(s, system, org_id=street_org.id, name="张律", specialties=("labour", "housing"),
                                expert=True, intro="执业律师，街道调委会专家库成员")
        grids = list(s.scalars(select(Area).where(Area.parent_id == community.id).order_by(Area.code)))
        for n, (title, type_code, parties, signals, walk, amount) in enumerate(_DISPUTES):
            place = grids[n % len(grids)]
            point = shape(place.geometry).representative_point() if place.geometry else None
            if point is None:
                continue
            dispute = service.register(s, system, service.DisputeIn(
                title=title, type_code=type_code, lon=point.x, lat=point.y, address=f"{place.name}",
                description=f"{parties[0][1]}反映：{title}，请求社区调解。", source=Source.GRID.value,
                amount=Decimal(amount) if amount else None, signals=signals,
                parties=tuple(service.PartyIn(role=PartyRole(r), name=nm, kind=PartyKind.PERSON) for r, nm in parties)))
            dispute.registered_at = end - timedelta(days=30 - 4 * n)
            s.flush()
            for action in walk:
                fields: dict[str, Any] = dict(_FIELDS.get(action, {}))
                if action == "assign":
                    fields["mediator_id"] = lead.id
                if action == "agree":
                    fields["perform_by"] = (end + timedelta(days=7)).astimezone(tz).date().isoformat()
                if action == "start":
                    service.add_session(s, system, dispute.id, starts_at=end - timedelta(days=20 - 3 * n),
                                        place=f"{org.name}调解室", video_link="", attendees="双方当事人、调解员",
                                        record="双方陈述事实，调解员释法说理。")
                workflow.apply(s, system, dispute.id, action,
                               workflow.ActionInput(dispute.version, _NOTES.get(action, ""), fields))
            if "close" in walk:
                service.apply_confirmation(s, system, dispute.id, "区人民法院", date(end.year, end.month, 1))
    return f"已添加{len(_DISPUTES)}件矛盾纠纷和3名调解员", f"added {len(_DISPUTES)} disputes and 3 mediators"
