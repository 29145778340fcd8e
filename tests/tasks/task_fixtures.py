"""Task engine test helpers: the rented-house check type, principals of the factories' people, a campaign."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from shiyu.tasks import service
from shiyu.tasks.models import Assignment, TaskType
from tests.factories import World

RENTAL_FORM: list[dict[str, Any]] = [
    {"name": "tenants", "label": "租住人数", "label_en": "Tenants", "type": "number", "required": True},
    {"name": "registered", "label": "是否已备案", "label_en": "Registered", "type": "yesno", "required": True},
    {"name": "hazards", "label": "安全隐患", "label_en": "Hazards", "type": "multichoice",
     "options": ["消防通道堵塞", "电线私拉", "无灭火器"]},
    {"name": "note", "label": "情况说明", "label_en": "Notes", "type": "textarea"},
    {"name": "photo", "label": "现场照片", "label_en": "Photo", "type": "photo"},
    {"name": "where", "label": "位置", "label_en": "Location", "type": "gps"},
]


def principal(s: Session, w: World, name: str) -> Principal:
    previous = s.info.get("principal")
    s.info["principal"] = Principal.system("test")
    user = s.get(User, w.users[name].id)
    assert user is not None
    s.refresh(user, ["grants"])
    s.info["principal"] = previous
    return principal_for(user)


def rental_type(s: Session, code: str = "rental.check") -> TaskType:
    return service.ensure_system_type(s, code, "出租房屋检查", RENTAL_FORM, legal_basis="《租赁房屋治安管理规定》")


def campaign(s: Session, w: World, grids: tuple[str, ...] = ("a1", "a2"), days: int = 7) -> Assignment:
    """A campaign sent by operator_a (community A's centre) to the grids named, as that operator."""
    rental_type(s)
    operator = principal(s, w, "operator_a")
    s.info["principal"] = operator
    assignment = service.assign(s, operator, type_code="rental.check", title="出租房屋专项检查",
                                due_at=utcnow() + timedelta(days=days), grid_ids=[w.grids[g].id for g in grids])
    s.info["principal"] = Principal.system("test")
    return assignment
