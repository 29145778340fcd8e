"""Key-person test helpers: a world with a family in grid a1 (community A) and one in b1, a second centre
leader of A (the approver), a police officer and a citizen; records opened through the service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.keypersons import groups, handover, service
from shiyu.keypersons.models import VisitPlan
from tests.factories import World, add_user, populated
from tests.registry.registry_fixtures import POINT_B1, member, principal, registered_family


def today() -> date:
    """The API's today (the settings' zone), asked when a test needs it: a date taken when the module was
    imported went stale when the suite ran past midnight in Shanghai (16:00 UTC), and four tests failed."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()
RELEASED = {"offence": "盗窃罪", "released_on": "2026-11-30"}


def world(s: Session) -> World:
    w = populated(s)
    w.users["leader_a2"] = add_user(s, "leader_a2", w.community_a, [("centre_leader", w.community_a)])
    w.users["police_a"] = add_user(s, "police_a", w.community_a, [("police", w.community_a)])
    w.users["worker_a2"] = add_user(s, "worker_a2", w.grids["a2"], [("grid_worker", w.grids["a2"])])
    w.users["citizen"] = add_user(s, "citizen", w.city, [("citizen", w.city)])
    groups.seed(s)
    w.extra["a"] = registered_family(s, w, "worker_a1", "leader_a",
                                     members=[member("陈建国"), member("林秀英", "配偶"), member("陈小明", "子女")])
    w.extra["b"] = registered_family(s, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园",
                                     members=[member("赵六")])
    s.commit()
    return w


def opened(s: Session, w: World, person: int, group: str = "released", grade: str = "yellow",
           attributes: dict[str, Any] | None = None, leader: str = "leader_a", worker: str = "worker_a1",
           state: str = "enrolled") -> int:
    """A record opened by ``leader`` with ``worker`` (and police_a) on the team, taken to ``state``."""
    p = principal(s, w, leader)
    s.info["principal"] = p
    record = service.open_record(s, p, service.Opening(
        person_id=person, group_code=group, grade=grade, source="judicial",
        attributes=RELEASED if attributes is None else attributes,
        team=service.Team(grid_worker_id=w.users[worker].id, police_id=w.users.get("police_a", w.users[worker]).id
                          if leader == "leader_a" else None, guardian_name="陈大伯", guardian_phone="13911112222")))
    steps = {"referred": [], "verifying": ["verify"], "enrolled": ["verify", "enrol"],
             "lost_contact": ["verify", "enrol", "lose_contact"]}[state]
    for action in steps:
        service.act(s, p, record.id, action, today=today())
    s.info["principal"] = Principal.system("test")
    s.commit()
    return record.id


def scope_matrix_extra(s: Session, w: World, person_b: int) -> dict[str, Any]:
    """In community B: an enrolled record of ``person_b`` (team worker_b1), a pending grade change on it and
    a hand-over announced to grid b1; what tests/test_scope_matrix.py looks for."""
    groups.seed(s)
    p = principal(s, w, "leader_b")
    s.info["principal"] = p
    record = service.open_record(s, p, service.Opening(
        person_id=person_b, group_code="released", grade="yellow", source="judicial", attributes=RELEASED,
        team=service.Team(grid_worker_id=w.users["worker_b1"].id)))
    for action in ("verify", "enrol"):
        service.act(s, p, record.id, action, today=today())
    change = service.request_grade(s, p, record.id, "red", "乙社区升级")
    incoming = handover.send(s, p, handover.Sending(group_code="released", to_grid_id=w.grids["b1"].id,
                                                    person_id=person_b, from_org="乙监狱", document_no="乙-001",
                                                    items=("释放证明书",)))
    s.flush()
    s.info["principal"] = Principal.system("test")
    plan_id = s.scalar(select(VisitPlan.id).where(VisitPlan.group_code == "released", VisitPlan.grade == "red"))
    return {"kp_record_b": record.id, "kp_grade_b": change.id, "kp_handover_b": incoming.id, "kp_plan": plan_id}
