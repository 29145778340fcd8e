"""Case-test worlds: the factories' city plus a category with time limits, a fixture calendar, street-level
departments and the people of the loop."""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.intake import service as intake
from shiyu.cases.models import Attachment, Case
from shiyu.cases.schemas import IntakeIn
from shiyu.cases.workflow import engine
from shiyu.core.scoping import Principal
from shiyu.org.calendar.models import DayKind
from shiyu.org.calendar.schemas import DayRange
from shiyu.org.calendar.service import apply_year
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction
from tests.factories import World, add_user, make_people, make_world

SH = ZoneInfo("Asia/Shanghai")
POINT_A1 = {"lon": 117.95, "lat": 24.6}
POINT_B1 = {"lon": 118.10, "lat": 24.6}
OUTSIDE = {"lon": 120.0, "lat": 30.0}
LIMITS = {
    "register": {"amount": 2, "unit": "working_hours"},
    "dispatch": {"amount": 2, "unit": "working_hours"},
    "accept": {"amount": 2, "unit": "working_hours"},
    "handle": {"normal": {"amount": 3, "unit": "working_days"}, "urgent": {"amount": 1, "unit": "working_days"},
               "critical": {"amount": 4, "unit": "working_hours"}},
    "verify": {"amount": 1, "unit": "working_days"},
}
_keys = itertools.count(1)


def fixture_calendar(s: Session) -> None:
    """National Day week 2026-10-01..07 off; Saturday 2026-10-10 a make-up working day."""
    apply_year(s, 2026, [
        DayRange(start=date(2026, 10, 1), end=date(2026, 10, 7), kind=DayKind.HOLIDAY, name_zh="国庆节",
                 name_en="National Day"),
        DayRange(start=date(2026, 10, 10), end=date(2026, 10, 10), kind=DayKind.WORKDAY, name_zh="调休",
                 name_en="make-up day"),
    ])


def make_category(s: Session) -> Category:
    major = Category(kind="incident", code="I99", name_zh="测试大类", name_en="test major")
    minor = Category(kind="incident", code="I9901", name_zh="占道经营", name_en="street vending", parent=major,
                     time_limits=LIMITS, fields=[], default_urgency="normal")
    s.add_all([major, minor])
    s.flush()
    return minor


def _department(s: Session, code: str, name: str, area: Any) -> Department:
    dept = Department(code=code, name=name, area_id=area.id, area_path=area.area_path, category_kinds=["incident"])
    dept.jurisdictions.append(DepartmentJurisdiction(area_id=area.id, area_path=area.area_path))
    s.add(dept)
    s.flush()
    return dept


def district_department(s: Session, w: World) -> Department:
    """A district bureau covering the whole district: what the routing rules name above a street (转派上级部门)."""
    return _department(s, "D-d", "东区城市管理局", w.district)


def case_world(s: Session) -> World:
    """The factories' world and people, plus: a category, the fixture calendar, street departments
    (main, assisting) and the people of every case role."""
    w = make_world(s)
    make_people(s, w)
    fixture_calendar(s)
    w.extra["category"] = make_category(s)
    w.departments["s"] = _department(s, "D-s", "街道城管科", w.street)
    w.departments["s2"] = _department(s, "D-s2", "街道市场所", w.street)
    w.departments["a2"] = _department(s, "D-a2", "甲社区市场办", w.community_a)
    people = {
        "operator_s": [("centre_operator", w.street)],
        "leader_s": [("centre_leader", w.street)],
        "leader_a2": [("centre_leader", w.community_a)],
        "leader_d": [("centre_leader", w.district)],
        "handler_s": [("department_handler", w.departments["s"])],
        "handler_s2": [("department_handler", w.departments["s2"])],
        "handler_a2": [("department_handler", w.departments["a2"])],
        "hotline": [("hotline_operator", w.city)],
        "worker_a2": [("grid_worker", w.grids["a2"])],
        "leader_grid_a1": [("grid_leader", w.grids["a1"])],
        "citizen": [("citizen", w.city)],
    }
    for name, grants in people.items():
        w.users[name] = add_user(s, name, w.city if name in ("hotline", "citizen") else w.community_a, grants)
    w.extra["centres"] = {c.area_id: c for c in s.scalars(select(Centre))}
    s.commit()
    return w


def intake_body(w: World, key: str, **extra: Any) -> dict[str, Any]:
    """A grid worker's report as the intake API takes it: a missing manhole cover in grid a1."""
    return {"idempotency_key": key, "channel": "grid", "category_id": w.extra["category"].id,
            "description": "井盖缺失", "location": POINT_A1, **extra}


def principal(s: Session, w: World, name: str) -> Principal:
    s.info["principal"] = Principal.system("test")
    user = s.get(User, w.users[name].id)
    assert user is not None
    s.refresh(user, ["grants"])
    return principal_for(user)


def report(
    s: Session, w: World, who: str = "worker_a1", *, channel: str = "grid", point: dict | None = None,
    now: datetime | None = None, key: str | None = None, **extra: Any,
) -> intake.IntakeResult:
    """File a case through the intake service as ``who`` (in the session, which it commits)."""
    p = principal(s, w, who) if who != "public" else Principal(user_id=None, username="public")
    s.info["principal"] = p
    body = IntakeIn(idempotency_key=key or f"key-{next(_keys):06d}", channel=channel,
                    category_id=w.extra["category"].id, description="人行道上有流动摊贩占道经营",
                    location=point or POINT_A1, **extra)
    result = intake.intake(s, p, body, SH, now=now)
    s.commit()
    return result


def act(s: Session, w: World, who: str, case: Case, action: str, *, now: datetime | None = None, note: str = "ok",
        fields: dict | None = None, attachment_ids: list[int] | None = None) -> Case:
    """Apply one action as ``who`` (``system`` for arranging) at the case's current version, and commit."""
    p = Principal.system("test") if who == "system" else principal(s, w, who)
    s.info["principal"] = Principal.system("test")  # the current version, whether or not ``who`` may see it
    current = s.get(Case, case.id)
    assert current is not None
    s.refresh(current)
    s.info["principal"] = p
    result = engine.apply(s, p, case.id, action, engine.ActionInput(
        expected_version=current.version, note=note, fields=fields or {}, attachment_ids=attachment_ids or []),
        SH, now=now)
    s.commit()
    return result


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 255)).save(out, "PNG")
    return out.getvalue()


def evidence(s: Session, uploader: str) -> int:
    """An unlinked upload owned by the user called ``uploader`` (by nobody for ``test``, the system); the row
    only, storage is not needed by the workflow."""
    s.info["principal"] = Principal.system("test")
    owner = s.scalar(select(User.id).where(User.username == uploader))
    a = Attachment(uploader_id=owner, filename="after.jpg", mime="image/jpeg", kind="photo", size=10,
                   sha256="0" * 64, storage_key=f"attachments/test/{next(_keys)}.jpg", area_path="")
    s.add(a)
    s.flush()
    return a.id


def walk(s: Session, w: World, case: Case, path: list[tuple[str, str, dict]], now: datetime | None = None) -> Case:
    for who, action, fields in path:
        case = act(s, w, who, case, action, fields=fields, now=now)
    return case


def scope_matrix_extra(s: Session, w: World) -> dict[str, Any]:
    """What tests/test_scope_matrix.py needs for its case rows: a case of community B (reported by
    worker_b1 in grid b1), registered, and an upload linked to it."""
    if "category" not in w.extra:
        w.extra["category"] = make_category(s)
    s.info["principal"] = Principal.system("test")  # whoever the caller was acting as may not see worker_b1
    p_b = principal_for(s.get(User, w.users["worker_b1"].id))
    s.info["principal"] = p_b
    attachment = Attachment(uploader_id=p_b.user_id, filename="b.jpg", mime="image/jpeg", kind="photo", size=10,
                            sha256="0" * 64, storage_key="attachments/test/b.jpg", area_path="")
    s.add(attachment)
    s.flush()
    body = IntakeIn(idempotency_key="scope-matrix-b", channel="grid", category_id=w.extra["category"].id,
                    description="乙社区的案件", location=POINT_B1, attachment_ids=[attachment.id])
    result = intake.intake(s, p_b, body, SH)
    s.info["principal"] = Principal.system("test")
    s.commit()
    return {"case_b": result.case.id, "case_b_code": result.case.tracking_code,
            "case_b_version": result.case.version, "attachment_b": attachment.id}
