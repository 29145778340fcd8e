"""The demo city's registers: the grids of the demo community (where ``demo_grid_worker``, the grid leader and
the community police work) get standard addresses, buildings, houses of every use, about two hundred
residents in households (registered families, 流动 tenants, a 群租 flat), shops and companies with valid
统一社会信用代码, and components. Everything goes in through the import service, as an extract from 公安 and
市场监管 would — the same checks, encryption and blind indexes — so the demo also shows the importer working.

Deterministic (one seed) and small: the community's grids only, a few seconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import transaction
from shiyu.core.scoping import Principal
from shiyu.core.validators import credit_code_check_char, id_check_digit
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.identity.models import Grant, User
from shiyu.registry import quality
from shiyu.registry.bulk import rows as bulk_rows
from shiyu.registry.bulk import service as bulk
from shiyu.registry.models import Address, Component, Unit
from shiyu.registry.places import address_code

SEED = 15
# Names and numbers of the register's residents (the demo city's own lists live above this layer).
SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢洪郭邱曾廖赖周徐苏叶庄吕江何萧罗高"
GIVEN = "志明淑芬建华美玲俊杰雅婷家豪怡君文彬秀英国强丽华振宇佳颖子轩思涵伟强惠敏"
MOBILE_PREFIXES = ("138", "139", "135", "137", "150", "151", "158", "186", "187", "188", "177", "199")
ESTATES = ("幸福里", "金湾花园", "海景苑", "榕树里", "阳光小区", "紫荆园", "锦绣家园", "滨海新村", "翠湖居", "东方名苑")
FLOORS, ROOMS_PER_FLOOR = 4, 2
# the use of each house of a building by (floor, room): mostly families, some rented, one 群租, one vacant
USES = {(1, 1): "经营", (1, 2): "出租", (2, 2): "出租", (3, 1): "群租", (4, 2): "空置"}
SHOPS = (("便利店", "个体工商户", "九小场所", "消防"), ("餐馆", "个体工商户", "三小场所", "燃气、消防"),
         ("物业服务有限公司", "物业", "无", ""), ("托管中心", "社会组织", "人员密集场所", "消防"))
# GB/T 30428.2 classes a community has everywhere: 上水井盖, 路灯, 垃圾箱, 消防栓
COMPONENTS = (("0101", "上水井盖"), ("0111", "路灯"), ("0306", "垃圾箱"), ("0108", "消防栓"))


def demo(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str] | None:
    """Fill the demo community's registers (nothing when the demo city has no ``demo_grid_worker``)."""
    system = Principal.system("demo")
    with transaction(factory, principal=system, audit_off=True) as s:
        grids = _community_grids(s)
        if not grids:
            return None
        plan = _Plan(np.random.default_rng(SEED), end.astimezone(tz).date())
        for n, grid in enumerate(grids):
            plan.grid(n, grid, first=n == 0)
        counts = {}
        for kind, records in (("houses", plan.houses), ("persons", plan.persons), ("units", plan.units)):
            rows = bulk_rows.rows_from_records(kind, records)
            counts[kind] = bulk.run(s, system, kind, rows, dry_run=False, file_name=f"demo-{kind}",
                                    today=plan.today).written
        s.add_all(Component(**c) for c in plan.components)
        _place_units(s, plan.unit_addresses)
        s.flush()
        quality.refresh(s)  # the dashboard shows the demo's counts at once, not after the worker's first run
    return (f"基础信息：{counts['houses']}套房屋、{counts['persons']}名实有人口、{counts['units']}家单位",
            f"registers: {counts['houses']} houses, {counts['persons']} persons, {counts['units']} units")


def _place_units(s: Session, unit_addresses: dict[str, dict[str, str]]) -> None:
    """Each shop at its ground-floor premises (the 经营 house of the estate's first building), so the units
    have a point on the one map."""
    grids = {parts["grid_code"] for parts in unit_addresses.values()}
    community_of = {code: community or 0 for code, community in s.execute(
        select(Area.code, Area.parent_id).where(Area.code.in_(grids)), execution_options={"unscoped": True})}
    community_code = {a.id: a.code for a in s.scalars(select(Area).where(Area.id.in_(set(community_of.values()))),
                                                      execution_options={"unscoped": True})}
    for credit, parts in unit_addresses.items():
        code = address_code(community_code[community_of[parts["grid_code"]]], parts)
        address_id = select(Address.id).where(Address.code == code).scalar_subquery()
        s.execute(update(Unit).where(Unit.credit_code == credit).values(address_id=address_id),
                  execution_options={"unscoped": True})


def _community_grids(s: Session) -> list[Area]:
    """The grids of the community whose first grid ``demo_grid_worker`` looks after."""
    grid = s.scalar(select(Area).join(Grant, Grant.area_id == Area.id).join(User, User.id == Grant.user_id)
                    .where(User.username == "demo_grid_worker", Area.level == int(AreaLevel.GRID)),
                    execution_options={"unscoped": True})
    if grid is None:
        return []
    siblings = s.scalars(select(Area).where(Area.parent_id == grid.parent_id, Area.level == int(AreaLevel.GRID))
                         .order_by(Area.code), execution_options={"unscoped": True}).all()
    return [grid] + [g for g in siblings if g.id != grid.id]


def _name(rng: np.random.Generator) -> str:
    given = "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=1 if rng.random() < 0.3 else 2))
    return SURNAMES[rng.integers(len(SURNAMES))] + given


def _mobile(rng: np.random.Generator) -> str:
    return MOBILE_PREFIXES[rng.integers(len(MOBILE_PREFIXES))] + "".join(str(d) for d in rng.integers(10, size=8))


class _Plan:
    """The rows of the three import files and the components, grid by grid."""

    def __init__(self, rng: np.random.Generator, today: date) -> None:
        self.rng, self.today = rng, today
        self.houses: list[dict[str, Any]] = []
        self.persons: list[dict[str, Any]] = []
        self.units: list[dict[str, Any]] = []
        self.components: list[dict[str, Any]] = []
        self.unit_addresses: dict[str, dict[str, str]] = {}  # credit code → the address parts of its premises
        self.serial = 0

    def points(self, grid: Area, count: int) -> list[tuple[float, float]]:
        """``count`` points inside the grid's boundary (its centre when it has none)."""
        geometry = shape(grid.geometry) if grid.geometry else None
        if geometry is None or geometry.is_empty:
            return [(118.13, 24.50)] * count
        minx, miny, maxx, maxy = geometry.bounds
        out: list[tuple[float, float]] = []
        while len(out) < count:
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if shapely.contains_xy(geometry, x, y):
                out.append((round(float(x), 6), round(float(y), 6)))
        return out

    def grid(self, n: int, grid: Area, *, first: bool) -> None:
        estate = ESTATES[n % len(ESTATES)]
        buildings = 3 if first else 2
        spots = self.points(grid, buildings + len(SHOPS) + len(COMPONENTS))
        for b in range(1, buildings + 1):
            lon, lat = spots[b - 1]
            for floor in range(1, FLOORS + 1):
                for room in range(1, ROOMS_PER_FLOOR + 1):
                    self.house(grid, estate, b, floor, room, lon, lat)
        for kind_name, kind, place, tags in SHOPS[: len(SHOPS) if first else 2]:
            self.unit(grid, estate, kind_name, kind, place, tags)
        for k, (code, label) in enumerate(COMPONENTS):
            lon, lat = spots[buildings + len(SHOPS) + k]
            self.components.append({
                "grid_id": grid.id, "area_path": grid.area_path, "code": f"{grid.code}{code}{k + 1:04d}",
                "class_code": code, "name": f"{estate}{label}", "lon": lon, "lat": lat,
                "owner_name": f"{estate}物业服务有限公司", "status": "damaged" if k == 0 and first else "intact"})

    def house(self, grid: Area, estate: str, building: int, floor: int, room: int, lon: float, lat: float) -> None:
        use = USES.get((floor, room), "自住")
        place = {"网格编码": grid.code, "小区/道路": estate, "楼栋": str(building), "单元": "1",
                 "户室": f"{floor}{room:02d}"}
        rented = use in ("出租", "群租")
        self.houses.append({**place, "用途": use, "面积": str(int(self.rng.integers(45, 140))),
                            "经度": str(lon), "纬度": str(lat),
                            "出租人": _name(self.rng) if rented else "",
                            "出租人电话": _mobile(self.rng) if rented else "",
                            "租住人数": {"出租": "2", "群租": "6"}.get(use, "0"),
                            "备案日期": str(self.today - timedelta(days=200)) if rented else "",
                            "最近检查日期": str(self.today - timedelta(days=40)) if rented else ""})
        if use == "自住":
            self.family(place)
        elif rented:
            for i in range(6 if use == "群租" else int(self.rng.integers(1, 3))):
                self.person(place, "其他" if i else "户主", 1975, 2004, floating=True)

    def family(self, place: dict[str, str]) -> None:
        """A registered family: head, usually a spouse, children, sometimes a parent."""
        self.person(place, "户主", 1965, 1990)
        if self.rng.random() < 0.85:
            self.person(place, "配偶", 1965, 1990)
        for _ in range(int(self.rng.integers(0, 3))):
            self.person(place, "子女", 1995, 2020)
        if self.rng.random() < 0.3:
            self.person(place, "父母", 1940, 1960)

    def person(self, place: dict[str, str], relation: str, born_from: int, born_to: int, *,
               floating: bool = False) -> None:
        self.serial += 1
        born = date(int(self.rng.integers(born_from, born_to)), 1, 1) + timedelta(days=int(self.rng.integers(365)))
        region = place["网格编码"][:6] if not floating else ("350628", "360122", "430521", "512921")[self.serial % 4]
        first17 = f"{region}{born:%Y%m%d}{self.serial % 1000:03d}"
        arrival = self.today - timedelta(days=int(self.rng.integers(30, 1500)))
        self.persons.append({
            **place, "姓名": _name(self.rng), "身份证号": first17 + id_check_digit(first17),
            "手机": _mobile(self.rng) if born.year < 2010 else "", "民族": "汉" if self.serial % 12 else "回",
            "人员类型": "流动" if floating else "户籍", "与户主关系": relation,
            "来本地日期": str(arrival) if floating else "",
            "居住证号": f"JZZ{first17[:6]}{self.serial:06d}" if floating and self.serial % 3 else "",
            "居住证有效期": str(arrival + timedelta(days=3 * 365)) if floating and self.serial % 3 else "",
            "职业": ("工人", "职员", "个体", "学生", "退休")[self.serial % 5] if born.year < 2015 else ""})

    def unit(self, grid: Area, estate: str, kind_name: str, kind: str, place: str, tags: str) -> None:
        self.serial += 1
        prefix = {"个体工商户": "92", "社会组织": "52", "物业": "91"}[kind]
        first17 = f"{prefix}{grid.code[:6]}MA{self.serial:07d}"
        credit = first17 + credit_code_check_char(first17)
        self.unit_addresses[credit] = {"grid_code": grid.code, "road": estate, "building_no": "1", "unit_no": "1",
                                       "room_no": "101"}
        self.units.append({"统一社会信用代码": credit,
                           "名称": f"{estate}{kind_name}", "类型": kind, "网格编码": grid.code,
                           "地址": f"{estate}1栋101", "法定代表人": _name(self.rng),
                           "法定代表人电话": _mobile(self.rng), "从业人数": str(int(self.rng.integers(2, 30))),
                           "场所类型": place, "风险标签": tags})
