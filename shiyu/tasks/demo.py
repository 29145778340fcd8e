"""The task engine in the demo city: two department types admitted by their street's centre (出租房屋检查,
安全隐患排查) and one campaign of the street to the grids of the demo grid worker's community, with its items
in mixed states — so ``make run`` shows the admitted list, a campaign's progress and the field tab's items."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import transaction
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.identity.models import Grant, User
from shiyu.org.units.models import Department
from shiyu.tasks import service
from shiyu.tasks.models import WorkItem

RENTAL: list[dict[str, Any]] = [
    {"name": "tenants", "label": "租住人数", "label_en": "Tenants", "type": "number", "required": True},
    {"name": "registered", "label": "是否已登记备案", "label_en": "Registered with the police", "type": "yesno",
     "required": True},
    {"name": "hazards", "label": "发现的问题", "label_en": "Problems found", "type": "multichoice",
     "options": ["群租", "消防通道堵塞", "电动车室内充电", "未登记租客"]},
    {"name": "photo", "label": "门牌照片", "label_en": "Door plate photo", "type": "photo"},
    {"name": "where", "label": "位置", "label_en": "Location", "type": "gps"},
]
HAZARD: list[dict[str, Any]] = [
    {"name": "kind", "label": "隐患类型", "label_en": "Kind of hazard", "type": "choice", "required": True,
     "options": ["消防", "燃气", "用电", "建筑结构", "其他"]},
    {"name": "level", "label": "隐患等级", "label_en": "Level", "type": "choice", "options": ["一般", "较大", "重大"]},
    {"name": "note", "label": "情况描述", "label_en": "Description", "type": "textarea", "required": True},
    {"name": "photo", "label": "现场照片", "label_en": "Photo", "type": "photo"},
]


def _places(s: Session) -> tuple[Area, Area, Department] | None:
    """The demo grid worker's community and street, and a department of that street (or above it)."""
    path = s.scalar(select(Grant.area_path).join(User, User.id == Grant.user_id)
                    .where(User.username == "demo_grid_worker"))
    if path is None:
        return None
    codes = [c for c in path.split("/") if c]
    chain = {a.level: a for a in s.scalars(select(Area).where(Area.code.in_(codes)))}
    community, street = chain.get(int(AreaLevel.COMMUNITY)), chain.get(int(AreaLevel.STREET))
    if community is None or street is None:
        return None
    departments = list(s.scalars(select(Department).where(Department.area_id.in_([a.id for a in chain.values()]))
                                 .order_by(Department.id)))
    on_street = [d for d in departments if d.area_id == street.id]
    chosen = on_street or departments
    return (community, street, chosen[0]) if chosen else None


def build(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str] | None:
    system = Principal.system("demo")
    with transaction(factory, principal=system, audit_off=True) as s:
        places = _places(s)
        if places is None:
            return None
        community, street, department = places
        for code, name, form, basis in (
            ("rental.check", "出租房屋检查", RENTAL, "《商品房屋租赁管理办法》第十九条、《租赁房屋治安管理规定》"),
            ("hazard.screening", "安全隐患排查", HAZARD, "《安全生产法》第七十七条、《消防法》第三十二条"),
        ):
            proposed = service.propose_type(s, system, code=code, name=name, department_id=department.id,
                                            form=form, legal_basis=basis, cycle_days=90,
                                            funding_note="街道专项经费，费随事转")
            service.decide_type(s, system, proposed.id, "admit", "符合网格事项准入要求")
        s.flush()
        campaign = service.assign(s, system, type_code="rental.check", title=f"{community.name}出租房屋专项检查",
                                  due_at=end + timedelta(days=5), grid_ids=[community.id],
                                  instructions="逐户核查出租房屋，拍摄门牌照片，发现群租和消防隐患当场告知并上报。",
                                  now=end)
        items = list(s.scalars(select(WorkItem).where(WorkItem.assignment_id == campaign.id).order_by(WorkItem.id)))
        answers = {"tenants": 3, "registered": True, "hazards": ["电动车室内充电"]}
        for index, item in enumerate(items[1:], start=1):  # the demo worker's own grid keeps its item open
            action = ("submit", "unable", "start", "submit")[(index - 1) % 4]
            if action == "unable":
                service.act(s, system, item.id, action, reason="该楼栋整体拆迁，已无住户", now=end)
            else:
                service.act(s, system, item.id, action, data=answers if action == "submit" else None, now=end)
            if (index - 1) % 4 == 3:
                service.act(s, system, item.id, "review", now=end)
        service.open_item(s, type_code="hazard.screening", title="汛前安全隐患排查",
                          target=service.TargetRef("grid", items[0].grid_id, items[0].grid_id, items[0].target_label),
                          due_at=end + timedelta(hours=12), source_ref="demo:hazard:1")
    return (f"已写入2项准入事项和1个派发任务（{len(items)}个网格）",
            f"wrote 2 admitted task types and 1 campaign ({len(items)} grids)")
