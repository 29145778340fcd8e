"""Demo records: one family of the demo grid worker's grid whose members are key persons of several groups,
at every stage — visits due and overdue for ``demo_grid_worker``, one lost contact, one being verified — and
a released prisoner announced by a prison, waiting to be taken over (必接必送)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import transaction
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.core.validators import id_check_digit
from shiyu.keypersons import groups, plans
from shiyu.keypersons.models import Handover, HandoverKind, KeyPersonEvent, KeyPersonRecord, State, Visit
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import User
from shiyu.registry import changes
from shiyu.registry.changes import Submission

# name, born, group, grade, state, days since the last visit (None: never), attributes
PEOPLE: list[tuple[str, str, str, str, State, int | None, dict[str, Any]]] = [
    ("陈建国", "19750312", "released", "yellow", State.ENROLLED, 32,
     {"offence": "盗窃罪", "sentence": "三年", "released_on": "2025-03-01", "placement": "已安置"}),
    ("林秀英", "19820706", "mental", "0", State.ENROLLED, 80, {"diagnosis": "精神分裂症", "medication": "规律服药"}),
    ("黄志强", "19900115", "mental", "3", State.ENROLLED, 19, {"diagnosis": "双相（情感）障碍",
                                                               "medication": "间断服药", "subsidy": True}),
    ("吴丽华", "19881124", "correction", "green", State.ENROLLED, 5, {"category": "缓刑", "office": "第一司法所"}),
    ("郑小龙", "20080903", "youth", "yellow", State.VERIFYING, None, {"kind": "闲散青少年"}),
    ("许文斌", "19850430", "drugs", "red", State.LOST_CONTACT, 35, {"control": "社区康复"}),
]
ARRIVING = ("周永福", "19700822")


def _id_number(born: str, serial: int) -> str:
    first17 = f"350203{born}{serial:03d}"
    return first17 + id_check_digit(first17)


def _family(s: Session, grid: Area) -> list[int]:
    spot = shape(grid.geometry).representative_point()
    members = [{"name": name, "id_number": _id_number(born, 900 + i), "phone": f"1390000{i:04d}",
                "ethnicity": "汉", "residence_type": "户籍", "relation": "户主" if i == 0 else "其他"}
               for i, (name, born) in enumerate([*((p[0], p[1]) for p in PEOPLE), ARRIVING])]
    system = Principal.system("demo")
    record, _ = changes.submit(s, system, Submission("household", "create", {
        "address": {"road": "重点关爱小区", "building_no": "1", "unit_no": "1", "room_no": "101",
                    "lon": spot.x, "lat": spot.y},
        "house": {"use": "自住"}, "members": members}))
    changes.decide(s, system, record.id, "review")
    changes.decide(s, system, record.id, "accept")
    return [int(ref.split(":")[1]) for ref in record.applied_ids if ref.startswith("person:")]


def demo(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str] | None:
    today = end.astimezone(tz).date()
    with transaction(factory, principal=Principal.system("demo"), audit_off=True) as s:
        groups.seed(s)
        users = {name: uid for name, uid in s.execute(select(User.username, User.id).where(
            User.username.in_(("demo_grid_worker", "demo_police"))))}
        worker = s.scalar(select(User).where(User.username == "demo_grid_worker"))
        if worker is None or not worker.grants:
            return None
        grid = s.get(Area, worker.grants[0].area_id)
        if grid is None or not grid.geometry:
            return None
        person_ids = _family(s, grid)
        for person_id, (_name, _born, group, grade, state, last, attrs) in zip(person_ids, PEOPLE, strict=False):
            _record(s, person_id, grid, group, grade, state, last, attrs, users, today)
        s.add(Handover(kind=HandoverKind.INTAKE.value, person_id=person_ids[-1], group_code="released",
                       from_org="省第二监狱", sender_name="刘管教", document_no="释字〔2026〕第0412号",
                       due_on=today + timedelta(days=2), items=["释放证明书", "回执单", "服刑期间表现鉴定"],
                       sent_at=utcnow(), to_grid_id=grid.id, area_path=grid.area_path))
        s.flush()
        plans.raise_warnings(s, today, plans.Limits())
    return (f"已添加{len(PEOPLE)}名重点人员和1条待接收的必接必送",
            f"added {len(PEOPLE)} key persons and 1 hand-over waiting to be received")


def _record(s: Session, person_id: int, grid: Area, group: str, grade: str, state: State, last: int | None,
            attrs: dict[str, Any], users: dict[str, int], today: date) -> None:
    enrolled = today - timedelta(days=200)
    record = KeyPersonRecord(
        person_id=person_id, group_code=group, grid_id=grid.id, area_path=grid.area_path,
        source="judicial" if group in ("released", "correction") else "grid", grade=grade, state=state.value,
        attributes=json.dumps(attrs, ensure_ascii=False), opened_at=utcnow() - timedelta(days=210),
        grid_worker_id=users.get("demo_grid_worker"), police_id=users.get("demo_police"),
        enrolled_on=enrolled if state in (State.ENROLLED, State.LOST_CONTACT) else None,
        last_visit_on=today - timedelta(days=last) if last is not None else None, guardian_name="家属",
        guardian_phone="13900001111")
    s.add(record)
    s.flush()
    if state in (State.ENROLLED, State.LOST_CONTACT):
        plans.schedule(s, record, today)
    s.add(KeyPersonEvent(record_id=record.id, kind="opened", at=record.opened_at, actor_id=None,
                         data={"state": "referred", "source": record.source, "grade": grade},
                         area_path=record.area_path))
    if last is not None:
        s.add(Visit(record_id=record.id, group_code=group, visited_on=today - timedelta(days=last), at=utcnow(),
                    by_id=users.get("demo_grid_worker"), on_time=True, area_path=record.area_path,
                    due_on=today - timedelta(days=last)))
