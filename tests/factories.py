"""Small worlds for tests: a city with one district, one street, communities A and B, two grids each.

Geometry is in degrees around (118.0, 24.5). Community A is the west half of the street, B the east half;
each community is split into a north and a south grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.passwords import hash_password
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction

PASSWORD = "Passw0rd!x"
_HASH: dict[str, str] = {}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def add_area(s: Session, code: str, name: str, level: AreaLevel, parent: Area | None, geom: dict) -> Area:
    path = (parent.area_path if parent else "/") + code + "/"
    area = Area(code=code, name=name, level=int(level), parent=parent, area_path=path, geometry=geom,
                population=1000, households=350)
    s.add(area)
    s.flush()
    return area


@dataclass
class World:
    city: Area
    district: Area
    street: Area
    community_a: Area
    community_b: Area
    grids: dict[str, Area]
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def make_world(s: Session) -> World:
    city = add_area(s, "359900000000", "测试市", AreaLevel.CITY, None, box(117.9, 24.4, 118.2, 24.7))
    district = add_area(s, "359901000000", "东区", AreaLevel.DISTRICT, city, box(117.9, 24.4, 118.2, 24.7))
    street = add_area(s, "359901001000", "东街道", AreaLevel.STREET, district, box(117.9, 24.4, 118.2, 24.7))
    a = add_area(s, "359901001001", "甲社区", AreaLevel.COMMUNITY, street, box(117.9, 24.4, 118.05, 24.7))
    b = add_area(s, "359901001002", "乙社区", AreaLevel.COMMUNITY, street, box(118.05, 24.4, 118.2, 24.7))
    grids = {
        "a1": add_area(s, "359901001001001", "甲社区第一网格", AreaLevel.GRID, a, box(117.9, 24.55, 118.05, 24.7)),
        "a2": add_area(s, "359901001001002", "甲社区第二网格", AreaLevel.GRID, a, box(117.9, 24.4, 118.05, 24.55)),
        "b1": add_area(s, "359901001002001", "乙社区第一网格", AreaLevel.GRID, b, box(118.05, 24.55, 118.2, 24.7)),
        "b2": add_area(s, "359901001002002", "乙社区第二网格", AreaLevel.GRID, b, box(118.05, 24.4, 118.2, 24.55)),
    }
    for area in (city, district, street, a, b):
        s.add(Centre(area_id=area.id, name=f"{area.name}综治中心", area_path=area.area_path))
    world = World(city, district, street, a, b, grids)
    for key, area in (("a", a), ("b", b)):
        dept = Department(code=f"D-{key}", name=f"{area.name}物业办", area_id=area.id, area_path=area.area_path,
                          category_kinds=["incident"])
        dept.jurisdictions.append(DepartmentJurisdiction(area_id=area.id, area_path=area.area_path))
        s.add(dept)
        world.departments[key] = dept
    s.flush()
    return world


def add_user(s: Session, username: str, home: Area, grants: list[tuple[str, Area | Department]],
             **personal: Any) -> User:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    user = User(username=username, password_hash=_HASH[PASSWORD], area_path=home.area_path, **personal)
    for role, target in grants:
        if isinstance(target, Department):
            user.grants.append(Grant(role=role, department_id=target.id, area_path=target.area_path))
        else:
            user.grants.append(Grant(role=role, area_id=target.id, area_path=target.area_path))
    s.add(user)
    s.flush()
    return user


def make_people(s: Session, w: World) -> None:
    """admin (city), leader_a / leader_b (community centre leaders), worker_a1 (grid), handler_a (dept)."""
    w.users["admin"] = add_user(s, "admin", w.city, [("admin", w.city)])
    w.users["leader_a"] = add_user(s, "leader_a", w.community_a, [("centre_leader", w.community_a)],
                                   full_name="张三丰", phone="13812345678")
    w.users["leader_b"] = add_user(s, "leader_b", w.community_b, [("centre_leader", w.community_b)],
                                   full_name="李四", phone="13987654321")
    w.users["operator_a"] = add_user(s, "operator_a", w.community_a, [("centre_operator", w.community_a)])
    w.users["worker_a1"] = add_user(s, "worker_a1", w.grids["a1"], [("grid_worker", w.grids["a1"])],
                                    full_name="王小明", phone="13700001111")
    w.users["worker_b1"] = add_user(s, "worker_b1", w.grids["b1"], [("grid_worker", w.grids["b1"])])
    w.users["handler_a"] = add_user(s, "handler_a", w.community_a, [("department_handler", w.departments["a"])])
    w.users["auditor"] = add_user(s, "auditor", w.city, [("auditor", w.city)])


def populated(s: Session) -> World:
    w = make_world(s)
    make_people(s, w)
    s.commit()
    return w


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
