"""``shiyu demo``: writes the demo city 鹭江市 — areas with approved boundaries, centres, departments, staff —
deterministically from a seed, in one transaction.

Same seed, same city: codes, names, geometry, households, people's names and phone numbers are all drawn
from numpy generators seeded with it (personal data is still encrypted with a fresh nonce per value, and
password hashes get their own salt, so the stored bytes differ while the values do not).

The same transaction seeds the category tree, the 2026 calendar and routing rules, and writes six months
of case history ending at the build time (``shiyu.demo.cases``, which says how and why it writes the rows in
bulk); the indicator facts are rebuilt over that history after the commit.

The build refuses a database that already holds areas: the demo city is never built twice, nor beside a
real one. ``--if-absent`` turns "the demo city is already there" into a quiet no-op, which is what
``make run`` wants on every start.

Two shortcuts keep a full build within seconds, and both are for the demo only:

* The audit listener would write one audit row per inserted object (thousands of rows saying "the demo
  created this"). The session runs with ``audit_off`` and the build records one explicit ``demo_build``
  entry with the seed and the counts instead, which says the same thing.
* Every demo account has the same published password, hashed once with argon2 (about 50 ms per hash) and
  the hash string reused. Equal hashes give away that the passwords are equal, which is harmless here
  because the password is printed on the screen anyway; real accounts are created one by one through
  ``shiyu.org.identity.service.create_user`` and get their own salt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shiyu import domains
from shiyu.cases.indicators import facts
from shiyu.cases.indicators.definitions import local_day
from shiyu.core import audit
from shiyu.core.db import analyze, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.demo import cases as history
from shiyu.demo import geography, names
from shiyu.demo.geography import FULL_SIZE, CitySize
from shiyu.org.areas.models import Area, AreaBoundary, AreaLevel, BoundaryStatus
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.passwords import DEMO_PASSWORD, hash_password
from shiyu.org.identity.roles import Role
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction

DEFAULT_SEED = 2026
URBAN = 2.0  # mean relative density from which a street is a 街道 (below it, a 镇)
TOWN_SEAT = 1.6  # density from which a community under a 镇 is a 社区 (below it, a 村)
HOUSEHOLDS = (300, 500)  # per grid, inclusive
PERSONS_PER_HOUSEHOLD = (2.6, 3.0)
HOTLINE_OPERATORS = 6
OPERATORS = {AreaLevel.CITY: 3, AreaLevel.DISTRICT: 2, AreaLevel.STREET: 2, AreaLevel.COMMUNITY: 1}
CASES_PER_GRID = 10  # six months of history: 20,000 cases in the full city


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    where_zh: str
    where_en: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("demo_admin", Role.ADMIN, "全市", "the whole city"),
    DemoLogin("demo_centre_leader", Role.CENTRE_LEADER, "市综治中心", "the city centre"),
    DemoLogin("demo_operator", Role.CENTRE_OPERATOR, "第一个街道及其第一个社区的综治中心",
              "the first street's centre and its first community's"),
    DemoLogin("demo_grid_worker", Role.GRID_WORKER, "第一个社区的第一网格", "grid 1 of the first community"),
    DemoLogin("demo_grid_leader", Role.GRID_LEADER, "第一个社区", "the first community"),
    DemoLogin("demo_grid_instructor", Role.GRID_INSTRUCTOR, "第一个街道", "the first street"),
    DemoLogin("demo_handler", Role.DEPARTMENT_HANDLER, "第一个区的城市管理局", "the first district's urban management"),
    DemoLogin("demo_hotline", Role.HOTLINE_OPERATOR, "全市", "the whole city"),
    DemoLogin("demo_mediator", Role.MEDIATOR, "第一个街道", "the first street"),
    DemoLogin("demo_legal", Role.LEGAL_ADVISER, "全市", "the whole city"),
    DemoLogin("demo_analyst", Role.ANALYST, "全市", "the whole city"),
    DemoLogin("demo_auditor", Role.AUDITOR, "全市", "the whole city"),
    DemoLogin("demo_citizen", Role.CITIZEN, "全市", "the whole city"),
    DemoLogin("demo_police", Role.POLICE, "第一个社区（社区民警）", "the first community (community police)"),
    DemoLogin("demo_petition", Role.PETITION_OFFICER, "第一个街道（信访专干）", "the first street (petition officer)"),
)


class DemoRefused(ShiyuError):
    status = 409
    code = "demo_refused"


CITY_EXISTS = ("demo_city_exists", "演示城市已存在，未做任何改动", "The demo city already exists; nothing was changed")
NOT_EMPTY = (
    "demo_database_not_empty",
    "数据库中已有区划或同名账号，演示城市只建在空数据库中",
    "The database already holds areas or accounts with demo usernames; the demo city is built into an empty "
    "database only",
)


@dataclass
class Node:
    """One planned area, before and after insertion (``area`` is set once it has a row)."""

    code: str
    name: str
    level: AreaLevel
    path: str
    geometry: dict[str, Any]
    households: int = 0
    population: int = 0
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    area: Area | None = None

    def add(self, code: str, name: str, cell: geography.Cell, households: int = 0, population: int = 0) -> Node:
        child = Node(code, name, AreaLevel(self.level + 1), f"{self.path}{code}/", geography.geojson(cell.geometry),
                     households=households, population=population, parent=self)
        self.children.append(child)
        return child

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class BuildReport:
    counts: dict[str, int]
    seconds: float


Echo = Callable[[str], None]


def plan(seed: int = DEFAULT_SEED, size: CitySize = FULL_SIZE) -> Node:
    """The area tree with codes, names, geometry and households; no database involved."""
    cells = geography.generate(seed, size)
    rng = np.random.default_rng([seed, 1])
    stems = iter(names.place_stems(rng, len(cells.level(2)) + len(cells.level(3))))
    city = Node(names.CITY_CODE, names.CITY_NAME, AreaLevel.CITY, f"/{names.CITY_CODE}/",
                geography.geojson(cells.geometry))
    for i, (dcell, dname) in enumerate(zip(cells.children, names.district_names(len(cells.children)), strict=True)):
        district = city.add(f"{names.CITY_CODE[:4]}{i + 1:02d}000000", dname, dcell)
        # GB/T 2260 habit: 街道 take serials 001…, 镇 101…; 社区 001…, 村 201…
        street_no = {True: 0, False: 100}
        for scell in dcell.children:
            urban = scell.density >= URBAN
            street_no[urban] += 1
            street = district.add(f"{district.code[:6]}{street_no[urban]:03d}000",
                                  next(stems) + ("街道" if urban else "镇"), scell)
            comm_no = {True: 0, False: 200}
            for ccell in scell.children:
                resident = urban or ccell.density >= TOWN_SEAT
                comm_no[resident] += 1
                community = street.add(f"{street.code[:9]}{comm_no[resident]:03d}",
                                       next(stems) + ("社区" if resident else "村"), ccell)
                for k, gcell in enumerate(ccell.children, start=1):
                    households = int(rng.integers(HOUSEHOLDS[0], HOUSEHOLDS[1] + 1))
                    population = round(households * float(rng.uniform(*PERSONS_PER_HOUSEHOLD)))
                    community.add(f"{community.code}{k:03d}", f"{community.name}第{names.chinese_number(k)}网格",
                                  gcell, households=households, population=population)
            street.children.sort(key=lambda n: n.code)
        district.children.sort(key=lambda n: n.code)
    _sum_up(city)
    return city


def _sum_up(node: Node) -> None:
    if node.children:
        for child in node.children:
            _sum_up(child)
        node.households = sum(c.households for c in node.children)
        node.population = sum(c.population for c in node.children)


def check_absent(session: Session) -> None:
    """Refuse when the demo city, or any other area, is already in the database."""
    codes = session.scalars(select(Area.code).where(Area.level == int(AreaLevel.CITY))).all()
    if names.CITY_CODE in codes:
        raise DemoRefused(*CITY_EXISTS)
    if codes or session.scalar(select(func.count(Area.id))):
        raise DemoRefused(*NOT_EMPTY)


def _check_usernames(session: Session, usernames: list[str]) -> None:
    if session.scalar(select(func.count(User.id)).where(User.username.in_(usernames))):
        raise DemoRefused(*NOT_EMPTY)


def build(
    factory: sessionmaker[Session], *, seed: int = DEFAULT_SEED, size: CitySize = FULL_SIZE, echo: Echo | None = None,
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai"), end: datetime | None = None, cases: int | None = None,
) -> BuildReport:
    """Build the demo city with its case history (``cases``, default ``CASES_PER_GRID`` per grid, over the
    six months before ``end``, default now) into an empty database; raises ``DemoRefused`` otherwise
    (nothing written). The indicator facts are rebuilt over the history once it is committed."""
    start = time.perf_counter()

    def say(zh: str, en: str) -> None:
        if echo is not None:
            echo(f"[{time.perf_counter() - start:5.1f}s] {zh} / {en}")

    with transaction(factory, principal=Principal.system("demo")) as s:
        check_absent(s)
    city = plan(seed, size)
    nodes = list(city.walk())
    per_level = [sum(1 for n in nodes if n.level == lv) for lv in AreaLevel]
    say(f"规划完成：{per_level[1]}个区、{per_level[2]}个街道乡镇、{per_level[3]}个社区村、{per_level[4]}个网格",
        f"planned {per_level[1]} districts, {per_level[2]} streets, {per_level[3]} communities, {per_level[4]} grids")
    people = _People(np.random.default_rng([seed, 2]), hash_password(DEMO_PASSWORD))
    with transaction(factory, principal=Principal.system("demo"), audit_off=True) as s:
        now = utcnow()
        _insert_areas(s, city, now)
        say(f"已写入{len(nodes)}个区划及其边界", f"wrote {len(nodes)} areas with their boundaries")
        centres = [Centre(area_id=_id(n), name=f"{n.name}综治中心", area_path=n.path)
                   for n in nodes if n.level < AreaLevel.GRID]
        s.add_all(centres)
        departments = _departments(city)
        s.add_all(departments)
        s.flush()
        say(f"已写入{len(centres)}个综治中心、{len(departments)}个职能部门",
            f"wrote {len(centres)} centres, {len(departments)} departments")
        _staff(people, city, departments)
        _check_usernames(s, [u.username for u in people.users])
        s.add_all(people.users)
        s.flush()
        grants = sum(len(u.grants) for u in people.users)
        say(f"已写入{len(people.users)}个账号、{grants}项授权", f"wrote {len(people.users)} accounts, {grants} grants")
        rules = history.seed_reference(s)
        end = end or now
        made = history.generate(s, tz, seed=seed, end=end,
                                cases=CASES_PER_GRID * per_level[4] if cases is None else cases)
        say(f"已写入分类、日历、{rules}条派遣规则和{made.cases}件历史案件（{made.events}条记录）",
            f"wrote categories, the calendar, {rules} routing rules and {made.cases} cases ({made.events} events)")
        counts = {
            "districts": per_level[1], "streets": per_level[2], "communities": per_level[3], "grids": per_level[4],
            "centres": len(centres), "departments": len(departments), "users": len(people.users), "grants": grants,
            "routing_rules": rules, "cases": made.cases, "case_events": made.events,
        }
        audit.record(s, "demo_build", "area", _id(city), area_path=city.path, reason=f"seed={seed}",
                     after={"seed": seed, "counts": counts})
    facts.rebuild(factory, tz, local_day(end - timedelta(days=history.HISTORY_DAYS + 1), tz), local_day(end, tz))
    say("已重算统计指标", "rebuilt the indicator facts")
    for domain in domains.DOMAINS:
        line = domain.demo(factory, tz, end) if domain.demo is not None else None
        if line is not None:
            say(*line)
    analyze(factory)
    say("已更新查询统计信息", "refreshed the query planner's statistics")
    seconds = time.perf_counter() - start
    say("完成", "done")
    return BuildReport(counts, seconds)


def _id(node: Node) -> int:
    assert node.area is not None, "area not inserted yet"
    return node.area.id


def _insert_areas(s: Session, city: Node, now: Any) -> None:
    """Level by level, so that each level's rows go in as one batch with their parents' ids known."""
    level = [city]
    while level:
        for n in level:
            n.area = Area(code=n.code, name=n.name, level=int(n.level), area_path=n.path, geometry=n.geometry,
                          parent_id=_id(n.parent) if n.parent else None, households=n.households,
                          population=n.population)
        s.add_all(n.area for n in level)
        s.flush()
        level = [c for n in level for c in n.children]
    s.add_all(
        AreaBoundary(area_id=_id(n), version=1, geometry=n.geometry, status=BoundaryStatus.APPROVED.value,
                     effective_from=now, proposed_at=now, decided_at=now, area_path=n.path,
                     note="演示城市初始边界 / initial boundary of the demo city")
        for n in city.walk()
    )
    s.flush()


def _departments(city: Node) -> list[Department]:
    """District-level functional departments in every district, then a few city-level ones, then every street
    centre's usual departments (the street's own to dispatch to) and each community's own (which its centre
    dispatches to without escalating); each answers for the area it sits in."""
    out = []
    targets: list[tuple[Node, tuple[tuple[str, str, list[str]], ...]]] = [
        (d, names.DISTRICT_DEPARTMENTS) for d in city.children]
    targets += [(city, names.CITY_DEPARTMENTS)]
    targets += [(s, names.STREET_DEPARTMENTS) for d in city.children for s in d.children]
    targets += [(n, names.COMMUNITY_DEPARTMENTS) for n in city.walk() if n.level == AreaLevel.COMMUNITY]
    for node, catalogue in targets:
        for slug, template, kinds in catalogue:
            short = node.name.removesuffix("区").removesuffix("街道").removesuffix("镇")
            name = template.format(city=names.CITY_NAME, district=node.name, short=short, community=node.name)
            dept = Department(code=f"{node.code}-{slug}", name=name, area_id=_id(node), area_path=node.path,
                              category_kinds=list(kinds))
            dept.jurisdictions.append(DepartmentJurisdiction(area_id=_id(node), area_path=node.path))
            out.append(dept)
    return out


class _People:
    """Accounts with seed-determined Chinese names and distinct mobile numbers, all sharing one hash."""

    def __init__(self, rng: np.random.Generator, password_hash: str) -> None:
        self.rng = rng
        self.password_hash = password_hash
        self.users: list[User] = []
        self._phones: set[str] = set()

    def add(self, username: str, home_path: str, grants: list[tuple[Role, Node | Department]]) -> None:
        phone = names.mobile(self.rng)
        while phone in self._phones:
            phone = names.mobile(self.rng)
        self._phones.add(phone)
        user = User(username=username, password_hash=self.password_hash, area_path=home_path,
                    full_name=names.person_name(self.rng), phone=phone)
        for role, target in grants:
            if isinstance(target, Department):
                user.grants.append(Grant(role=role.value, department_id=target.id, area_path=target.area_path))
            else:
                user.grants.append(Grant(role=role.value, area_id=_id(target), area_path=target.path))
        self.users.append(user)


def _staff(people: _People, city: Node, departments: list[Department]) -> None:
    """Who works where. The demo logins take the place of the generated account for their post (the
    first street, community and grid in code order), so every grid still has exactly one grid worker.
    ``demo_operator`` works at the first street's centre and its first community's, where citizens' reports
    from that community land: one login registers a report, sends it up and dispatches it, and closes it."""
    street = city.children[0].children[0]
    community = street.children[0]
    grid = community.children[0]
    for login in DEMO_LOGINS:
        if login.role in (Role.ADMIN, Role.AUDITOR, Role.ANALYST, Role.LEGAL_ADVISER, Role.CITIZEN):
            people.add(login.username, city.path, [(login.role, city)])
    for n in range(1, HOTLINE_OPERATORS + 1):
        people.add("demo_hotline" if n == 1 else f"hotline_{n:02d}", city.path, [(Role.HOTLINE_OPERATOR, city)])
    for node in city.walk():
        if node.level == AreaLevel.GRID:
            name = "demo_grid_worker" if node is grid else f"gw_{node.code}"
            people.add(name, node.path, [(Role.GRID_WORKER, node)])
            continue
        if node.level < AreaLevel.COMMUNITY:
            name = "demo_centre_leader" if node is city else f"cl_{node.code}"
            people.add(name, node.path, [(Role.CENTRE_LEADER, node)])
        for k in range(1, OPERATORS[node.level] + 1):
            if node is street and k == 1:
                people.add("demo_operator", node.path,
                           [(Role.CENTRE_OPERATOR, node), (Role.CENTRE_OPERATOR, community)])
            elif not (node is community and k == 1):
                people.add(f"co_{node.code}_{k}", node.path, [(Role.CENTRE_OPERATOR, node)])
        if node.level == AreaLevel.STREET:
            people.add("demo_grid_instructor" if node is street else f"gi_{node.code}", node.path,
                       [(Role.GRID_INSTRUCTOR, node)])
            people.add("demo_mediator" if node is street else f"med_{node.code}", node.path, [(Role.MEDIATOR, node)])
            if node is street:  # the petitions (shiyu.petitions) are seen by petition roles only
                people.add("demo_petition", node.path, [(Role.PETITION_OFFICER, node)])
        if node.level == AreaLevel.COMMUNITY:
            people.add("demo_grid_leader" if node is community else f"gl_{node.code}", node.path,
                       [(Role.GRID_LEADER, node)])
            if node is community:  # the register's police-only fields (shiyu.registry) need someone to see them
                people.add("demo_police", node.path, [(Role.POLICE, node)])
    for i, dept in enumerate(departments):
        for k in range(1, int(people.rng.integers(1, 3)) + 1):
            name = "demo_handler" if i == 0 and k == 1 else f"dh_{dept.code.replace('-', '_')}_{k}"
            people.add(name, dept.area_path, [(Role.DEPARTMENT_HANDLER, dept)])


def login_places(factory: sessionmaker[Session]) -> list[tuple[DemoLogin, str]]:
    """Each demo login with the name of the area or department its grant is over (empty if missing).
    Reads no personal data, so it needs no decryption."""
    with transaction(factory, principal=Principal.system("demo")) as s:
        rows = s.execute(
            select(User.username, func.coalesce(Department.name, Area.name))
            .join(Grant, Grant.user_id == User.id)
            .outerjoin(Area, Area.id == Grant.area_id)
            .outerjoin(Department, Department.id == Grant.department_id)
            .where(User.username.in_([d.username for d in DEMO_LOGINS]))
        ).all()
    places = dict(rows)
    return [(login, places.get(login.username) or "") for login in DEMO_LOGINS]
