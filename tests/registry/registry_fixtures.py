"""Registry test helpers: valid ID numbers and credit codes, a family's change record, principals of the
factories' people, and the rows of community B that tests/test_scope_matrix.py looks for."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.core.validators import credit_code_check_char, id_check_digit
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from shiyu.registry import changes, quality
from shiyu.registry.changes import Submission
from tests.factories import World

POINT_A1 = {"lon": 117.95, "lat": 24.6}
POINT_B1 = {"lon": 118.10, "lat": 24.6}
_serial = itertools.count(1)


def id_number(born: str = "19800101", region: str = "350203", serial: int | None = None) -> str:
    first17 = f"{region}{born}{(serial if serial is not None else next(_serial)) % 1000:03d}"
    return first17 + id_check_digit(first17)


def credit_code(body: str = "91350200MA0000") -> str:
    first17 = (body + f"{next(_serial):03d}")[:17]
    return first17 + credit_code_check_char(first17)


def member(name: str, relation: str = "户主", **extra: Any) -> dict[str, Any]:
    return {"name": name, "id_number": id_number(), "phone": "13800001234", "ethnicity": "汉",
            "residence_type": "户籍", "relation": relation, **extra}


def family(point: dict[str, float] = POINT_A1, room: str = "501", members: list[dict[str, Any]] | None = None,
           road: str = "幸福小区") -> dict[str, Any]:
    return {"address": {"road": road, "building_no": "3", "unit_no": "2", "room_no": room, **point},
            "house": {"use": "自住", "area_m2": "89.5"},
            "members": members or [member("张伟"), member("李娜", "配偶"), member("张小宝", "子女", phone="")]}


def principal(s: Session, w: World, name: str) -> Principal:
    s.info["principal"] = Principal.system("test")
    user = s.get(User, w.users[name].id)
    assert user is not None
    s.refresh(user, ["grants"])
    return principal_for(user)


def registered_family(s: Session, w: World, worker: str, reviewer: str, **kw: Any) -> dict[str, Any]:
    """A family submitted by ``worker`` and accepted by ``reviewer``: the ids it wrote (committed by the caller)."""
    p_worker = principal(s, w, worker)
    s.info["principal"] = p_worker
    record, _ = changes.submit(s, p_worker, Submission("household", "create", family(**kw)))
    p_reviewer = principal(s, w, reviewer)
    s.info["principal"] = p_reviewer
    changes.decide(s, p_reviewer, record.id, "review")
    changes.decide(s, p_reviewer, record.id, "accept")
    s.info["principal"] = Principal.system("test")
    ids: dict[str, Any] = {"change": record.id, "persons": []}
    for ref in record.applied_ids:
        kind, _, num = ref.partition(":")
        if kind == "person":
            ids["persons"].append(int(num))
        else:
            ids[kind] = int(num)
    return ids


def scope_matrix_extra(s: Session, w: World) -> dict[str, Any]:
    """A family, a unit, a component and an open change record in grid b1 of community B."""
    ids = registered_family(s, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园",
                            members=[member("赵六", occupation="乙社区保安"),
                                     member("钱七", "配偶", occupation="乙社区保洁")])
    system = Principal.system("test")
    s.info["principal"] = system
    shop = {"name": "乙社区超市", "credit_code": credit_code(), "place_type": "九小场所"}
    unit, _ = changes.submit(s, system, Submission("unit", "create", shop, grid_id=w.grids["b1"].id))
    changes.decide(s, system, unit.id, "review")
    changes.decide(s, system, unit.id, "accept")
    comp, _ = changes.submit(s, system, Submission("component", "create", {"class_code": "0101", "name": "乙社区井盖",
                                                                           **POINT_B1}))
    changes.decide(s, system, comp.id, "review")
    changes.decide(s, system, comp.id, "accept")
    p_b = principal(s, w, "worker_b1")
    s.info["principal"] = p_b
    open_change, _ = changes.submit(s, p_b, Submission("person", "update", {"phone": "13900009999"},
                                                       target_id=ids["persons"][0]))
    s.flush()
    s.info["principal"] = system
    quality.refresh(s)  # the dashboard's counts of B's grid, which no one of A may see
    return {"person_b": ids["persons"][0], "person_b2": ids["persons"][1], "house_b": ids["house"],
            "unit_b": int(unit.applied_ids[0].split(":")[1]), "change_b": open_change.id}
