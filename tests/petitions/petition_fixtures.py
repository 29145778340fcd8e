"""Petition test helpers: petition officers of communities A and B, a registered petition, a walk along the
lifecycle, and the rows of community B that tests/test_scope_matrix.py looks for."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.petitions import service
from shiyu.petitions.models import Petition
from shiyu.petitions.service import PetitionerIn, ReceptionIn, Registration, Step
from tests.factories import World, add_user
from tests.registry.registry_fixtures import id_number, principal

TZ = ZoneInfo("Asia/Shanghai")


def officers(s: Session, w: World) -> None:
    """officer_a / officer_b: petition officers of communities A and B (leader_a / leader_b lead there)."""
    w.users["officer_a"] = add_user(s, "officer_a", w.community_a, [("petition_officer", w.community_a)])
    w.users["officer_b"] = add_user(s, "officer_b", w.community_b, [("petition_officer", w.community_b)])
    s.flush()


def registration(area_id: int, *, name: str = "陈建国", id_no: str | None = None,
                 demands: str = "小区电梯停运，请求修复", received_at: datetime | None = None,
                 **kw: Any) -> Registration:
    return Registration(area_id=area_id, channel=kw.pop("channel", "visit"), demands=demands,
                        petitioners=[PetitionerIn(name, id_no or id_number(), "13805920011")],
                        received_at=received_at, **kw)


def as_user(s: Session, w: World, name: str) -> Principal:
    p = principal(s, w, name)
    s.info["principal"] = p
    return p


def register(s: Session, w: World, user: str, area_id: int, **kw: Any) -> Petition:
    p = as_user(s, w, user)
    return service.register(s, p, TZ, registration(area_id, **kw))


def walk(s: Session, w: World, user: str, petition_id: int, *actions: tuple[str, Step]) -> Petition:
    p = as_user(s, w, user)
    petition = service.get(s, petition_id)
    for action, step in actions:
        petition = service.act(s, p, TZ, petition_id, action, step)
    return petition


def scope_matrix_extra(s: Session, w: World) -> dict[str, Any]:
    """A petition and a reception day in community B (petition officer B's), leader_b receiving."""
    officers(s, w)
    petition = register(s, w, "officer_b", w.community_b.id, name="赵乙", demands="乙社区居民反映噪声扰民")
    p = as_user(s, w, "officer_b")
    service.add_reception(s, p, ReceptionIn(area_id=w.community_b.id, leader_id=w.users["leader_b"].id,
                                            day=petition.received_at.date(), place="乙社区接访室",
                                            petition_ids=(petition.id,)))
    s.info["principal"] = Principal.system("test")
    return {"petition_b": petition.id, "petitioner_b": service.petitioners_of(s, [petition.id])[petition.id][0].id}
