"""Six months of demo case history for 鹭江市: reference data (categories, the 2026 calendar, routing rules)
and about 20,000 cases in every state of the loop, ending at the build date.

**Approach: simulated in memory, written in bulk.** Going through ``engine.apply`` costs several queries
and a flush per transition; 20,000 cases × ~10 transitions would take minutes. Each case is instead
played through its life in memory on a transient ``Case``: the *same* clock functions the engine uses
(``deadlines.start_step``/``finish_step``/``pause``/``resume``/``extend``/``clear_step``, with the
calendar loaded from the database), the same effects on the row (registration and routing suggestion,
department assignments released and added, counters, ratings, request rows), the transition table's
targets, clocks and public flags (``workflow.ACTIONS``), one version bump and one timeline entry per
transition, and the deadline scan played at the instants it would have fired (warning, ``overdue``,
``auto_supervise``). The rows are then inserted with Core ``INSERT``s (personal data still goes through
its encrypting column type; the blind indexes are computed the same way the flush listener does).

Three deliberate differences from cases entered live:

* no outbox rows: they would be delivered as notifications and webhooks about things that "happened"
  months ago; the indicator facts they would have refreshed are rebuilt over the whole period instead;
* no attachments: result reports and self-resolutions carry no evidence photos (there are no files);
* no audit entries per row, as for the rest of the demo build (one ``demo_build`` entry says it).

Everything is drawn from generators seeded with the build seed, and the history ends at ``end`` (the
build time): the same seed and end give the same history. Recent cases are still in early states
because their next step lies after ``end``; a few older ones are kept open on purpose (long suspensions,
overdue handling) so the queues are not only recent work.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category, CategoryKind, Step
from shiyu.cases.categories.seed import seed_categories
from shiyu.cases.intake.service import CODE_ALPHABET
from shiyu.cases.models import (
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseEvent,
    CaseRequest,
    CaseState,
    Channel,
    RequestKind,
    RequestStatus,
)
from shiyu.cases.routing.models import RoutingRule
from shiyu.cases.routing.service import route
from shiyu.cases.workflow import deadlines
from shiyu.cases.workflow.table import ACTIONS, STEP_OF_STATE, Clock
from shiyu.core.pii import blind_hash
from shiyu.demo import names
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.calendar.seed import seed_calendar
from shiyu.org.calendar.service import load_calendar
from shiyu.org.calendar.worktime import WorkCalendar
from shiyu.org.identity.api_clients import ApiClient
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import Role
from shiyu.org.units.models import Centre, Department

DEFAULT_CASES = 20_000
HISTORY_DAYS = 182
S = CaseState
SCAN_DELAY = timedelta(seconds=40)  # the minute scan notices a crossed instant within a minute
API_CLIENT_NAME = "视频智能分析平台"
# A share of the cases stalls in an open state (waiting, forgotten, overdue): the queues are not only the
# last days' work, and every open state is present even in a small history.
STALL_SHARE = 0.03
STALLED = (S.REPORTED, S.TO_DISPATCH, S.TO_ACCEPT, S.HANDLING, S.SUSPENDED, S.TO_VERIFY, S.TO_CLOSE)

# Relative frequency of the minor classes (the rest weigh 1): what grid centres see most.
CATEGORY_WEIGHTS = {
    "I0101": 12, "I0501": 10, "I0504": 7, "I0201": 7, "I0103": 6, "I0105": 6, "I0502": 5, "I0503": 5,
    "I0505": 4, "I0102": 4, "C0101": 4, "C0102": 4, "C0103": 5, "C0104": 3, "C0108": 5, "C0302": 3,
    "C0402": 2, "I0301": 4, "I0302": 3, "I0701": 4, "I0704": 3, "I0702": 2, "I0801": 3, "I0804": 4,
    "I0805": 2, "I1001": 5, "I1002": 2, "I0405": 2, "I0404": 2, "I0107": 2,
}
CHANNEL_WEIGHTS = {Channel.GRID: 0.62, Channel.CITIZEN: 0.16, Channel.HOTLINE: 0.15, Channel.API: 0.04,
                   Channel.DEPARTMENT: 0.03}
OWNER_WEIGHTS = {"市政": 5, "园林": 2, "物业": 3, "燃气公司": 1, "自来水公司": 1, "排水公司": 1, "供电公司": 1,
                 "通信公司": 1, "交警": 1, "其他": 1}

# (slug of the district department, major or minor class, owner condition or None); components go to
# their owner first (部件先属主), incidents to the territorial department (事件先属地).
DISTRICT_RULES: tuple[tuple[str, str | None, str | None, str], ...] = (
    ("cgj", None, "市政", "市政部件归城管局"),
    ("cgj", None, "园林", "园林部件归城管局"),
    ("zjj", None, "物业", "物业部件归住建局"),
    ("zjj", None, "燃气公司", "燃气部件归住建局"),
    ("cgj", "component", None, "部件属地：城管局"),
    ("sthj", "I0104", None, "水域不洁归生态环境分局"),
    ("sthj", "I0302", None, "工地扬尘归生态环境分局"),
    ("scjg", "I06", None, "市场监管事项归市场监管局"),
    ("yjgl", "I08", None, "安全隐患归应急管理局"),
    ("gafj", "I09", None, "重点人员归公安分局"),
    ("gafj", "I07", None, "矛盾纠纷警调联动"),
    ("cgj", "incident", None, "事件属地：城管局"),
)

# Each community's own rules: what its centre dispatches to the community's own body without escalating.
COMMUNITY_RULES: tuple[tuple[str, str, str], ...] = (
    ("tjwh", "I0701", "邻里纠纷由社区人民调解委员会调解"),
)
COMMUNITY_ROUTED = frozenset(code for _s, code, _l in COMMUNITY_RULES)
RULE_OWNERS = frozenset(owner for _s, _t, owner, _l in DISTRICT_RULES if owner)

PLACES = ("东门口", "南侧路口", "菜市场旁", "公交站附近", "3号楼下", "幼儿园门口", "主干道人行道", "停车场入口",
          "小区北门", "沿街商铺前", "公园入口", "学校后门", "农贸市场内", "桥下", "河道边", "背街小巷")
TEMPLATES = {
    "I0101": ("{place}有暴露垃圾，散发异味", "{place}垃圾堆放多日无人清运", "{place}绿化带内有生活垃圾"),
    "I0501": ("{place}有流动摊贩占道经营", "{place}早市摊点占用人行道", "{place}水果摊占道，影响通行"),
    "I0504": ("{place}机动车乱停放，堵塞消防通道", "{place}多辆车辆违停在人行道上"),
    "I0201": ("{place}墙面张贴大量非法小广告", "{place}电线杆上贴满小广告"),
    "I0701": ("{place}两户居民因漏水问题发生争执", "{place}邻居因噪音问题多次争吵"),
    "I0702": ("{place}工地工人反映被拖欠工资", "{place}商户员工讨要工资发生纠纷"),
    "I0801": ("{place}楼道堆放杂物，堵塞疏散通道", "{place}店铺消防器材过期"),
    "I0804": ("{place}有居民飞线给电动车充电", "{place}电动车在楼道内充电"),
    "I1001": ("居民反映{place}路灯照明不足，希望增设", "居民咨询{place}周边老年食堂开办情况"),
}
KIND_TEMPLATES = {
    CategoryKind.COMPONENT: ("{place}的{name}{condition}，存在安全隐患", "巡查发现{place}{name}{condition}",
                             "{place}{name}{condition}，请权属单位处理"),
    CategoryKind.INCIDENT: ("{place}发现{name}问题，请及时处置", "群众反映{place}存在{name}现象",
                            "{place}{name}，影响周边居民"),
}
RESULTS = ("已到场处置完毕，现场恢复正常", "已安排人员清理整改", "已责令当事人整改并复查", "已维修更换，运行正常",
           "已联系权属单位处理完毕", "已调解，双方达成一致")
REASONS_REJECT = ("经核实不属于受理范围", "信息不全，无法核实", "经现场核实问题不存在")
REASONS_RETURN = ("不属于本部门职责，请重新派遣", "该设施权属不在本单位")


@dataclass
class HistoryReport:
    cases: int
    events: int
    states: Counter[str]


@dataclass
class _Grid:
    id: int
    code: str
    path: str
    community_path: str
    street_path: str
    district_path: str
    name: str
    households: int
    polygon: Any
    worker: tuple[int, str]
    leader: tuple[int, str]


@dataclass
class _World:
    grids: list[_Grid]
    centres: dict[str, Centre]
    operators: dict[str, tuple[int, str]]
    leaders: dict[str, tuple[int, str]]
    departments: dict[str, dict[str, Department]]
    handlers: dict[int, tuple[int, str]]
    hotline: list[tuple[int, str]]
    citizen: tuple[int, str]
    city_leader: tuple[int, str]
    api_client: ApiClient
    categories: list[Category]
    routing: dict[tuple[int, str, str | None], dict[str, Any]] = field(default_factory=dict)


class _CachedCalendar(WorkCalendar):
    """The same calendar with each day's office spans computed once: the history asks for the same days
    hundreds of thousands of times."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "_spans", {})

    def _office_spans(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        cache: dict[date, tuple[tuple[datetime, datetime], ...]] = self._spans  # type: ignore[attr-defined]
        spans = cache.get(day)
        if spans is None:
            spans = cache[day] = tuple(super()._office_spans(day))
        return iter(spans)


def seed_reference(session: Session) -> int:
    """Categories, the 2026 calendar and the districts' and communities' routing rules; returns the number of
    rules."""
    seed_categories(session)
    seed_calendar(session)
    by_code = {c.code: c for c in session.scalars(select(Category))}
    rules = []
    districts = session.scalars(select(Area).where(Area.level == int(AreaLevel.DISTRICT)).order_by(Area.code))
    for district in districts:
        departments = {d.code.split("-", 1)[1]: d for d in session.scalars(
            select(Department).where(Department.area_path == district.area_path))}
        for priority, (slug, target, owner, label) in enumerate(DISTRICT_RULES):
            kind = target if target in ("component", "incident") else None
            category = by_code[target] if target is not None and kind is None else None
            rules.append(RoutingRule(
                name=f"{district.name}{label}", kind=kind, category_id=category.id if category else None,
                area_id=district.id, area_prefix=district.area_path, conditions={"owner": owner} if owner else {},
                department_id=departments[slug].id, priority=len(DISTRICT_RULES) - priority))
    own = {(d.area_path, d.code.split("-", 1)[1]): d for d in session.scalars(select(Department))}
    communities = session.scalars(select(Area).where(Area.level == int(AreaLevel.COMMUNITY)).order_by(Area.code))
    for community in communities:
        for slug, code, label in COMMUNITY_RULES:
            dept = own.get((community.area_path, slug))
            if dept is not None:
                rules.append(RoutingRule(name=f"{community.name}{label}", kind=None, category_id=by_code[code].id,
                                         area_id=community.id, area_prefix=community.area_path, conditions={},
                                         department_id=dept.id, priority=0))
    session.add_all(rules)
    session.flush()
    return len(rules)


def _load(session: Session, rng: np.random.Generator) -> _World:
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.level >= int(AreaLevel.STREET)))}
    people: dict[tuple[str, int | None, int | None], list[tuple[int, str]]] = defaultdict(list)
    for role, area_id, dept_id, user_id, username in session.execute(
        select(Grant.role, Grant.area_id, Grant.department_id, User.id, User.username)
        .join(User, User.id == Grant.user_id).order_by(User.username)
    ):
        people[(role, area_id, dept_id)].append((user_id, username))
    by_role: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for (role, _a, _d), users in people.items():
        by_role[role].extend(users)
    centres = {c.area_path: c for c in session.scalars(select(Centre))}
    operators = {c.area_path: people[(Role.CENTRE_OPERATOR.value, c.area_id, None)][0] for c in centres.values()
                 if people.get((Role.CENTRE_OPERATOR.value, c.area_id, None))}
    leaders = {c.area_path: people[(Role.CENTRE_LEADER.value, c.area_id, None)][0] for c in centres.values()
               if people.get((Role.CENTRE_LEADER.value, c.area_id, None))}
    departments: dict[str, dict[str, Department]] = defaultdict(dict)
    handlers = {}
    for d in session.scalars(select(Department).order_by(Department.code)):
        departments[d.area_path][d.code.split("-", 1)[1]] = d
        handlers[d.id] = people[(Role.DEPARTMENT_HANDLER.value, None, d.id)][0]
    grids = []
    for a in sorted((a for a in areas.values() if a.level == AreaLevel.GRID), key=lambda a: a.code):
        codes = [c for c in a.area_path.split("/") if c]
        paths = ["/" + "/".join(codes[:n]) + "/" for n in range(1, len(codes) + 1)]
        polygon = shape(a.geometry)
        shapely.prepare(polygon)
        grids.append(_Grid(
            a.id, a.code, a.area_path, paths[3], paths[2], paths[1], areas[cast(int, a.parent_id)].name, a.households,
            polygon,
            people[(Role.GRID_WORKER.value, a.id, None)][0],
            people[(Role.GRID_LEADER.value, a.parent_id, None)][0],
        ))
    client = session.scalar(select(ApiClient).where(ApiClient.name == API_CLIENT_NAME))
    if client is None:
        client = ApiClient(name=API_CLIENT_NAME, key_prefix="demo-video", area_path=_city_path(),
                           key_hash=hashlib.sha256(rng.bytes(32)).hexdigest())
        session.add(client)
        session.flush()
    categories = list(session.scalars(select(Category).where(Category.parent_id.is_not(None))
                                      .order_by(Category.code)))
    return _World(grids, centres, operators, leaders, departments, handlers, by_role[Role.HOTLINE_OPERATOR.value],
                  by_role[Role.CITIZEN.value][0], leaders[_city_path()], client, categories)


def _city_path() -> str:
    return f"/{names.CITY_CODE}/"


def _routing(session: Session, world: _World, category: Category, grid: _Grid, owner: str | None) -> dict[str, Any]:
    """``effects.suggest_route`` for the case, memoised: the rules sit on districts and never fall back
    (each district has catch-alls), so the answer depends only on (category, district, owner) — or, for the
    categories of the communities' own rules, (category, community, owner)."""
    owner = owner if owner in RULE_OWNERS else None  # other owners meet no owner rule: the same answer
    key = (category.id, grid.community_path if category.code in COMMUNITY_ROUTED else grid.district_path, owner)
    if key not in world.routing:
        area = session.get(Area, grid.id)
        assert area is not None
        d = route(session, category, area, {"owner": owner} if owner else {})
        world.routing[key] = {
            "department_id": d.department_id, "centre_id": d.centre_id, "rule_id": d.rule_id,
            "basis": d.basis.value, "target_name": d.target_name, "explanation_zh": d.explanation_zh,
            "explanation_en": d.explanation_en,
        }
    return world.routing[key]


class _Ids:
    """Explicit primary keys, so that events can name requests and cases can name their merge target."""

    def __init__(self, session: Session) -> None:
        self.next = {m: (session.scalar(select(func.max(m.id))) or 0) + 1
                     for m in (Case, CaseEvent, CaseAssignment, CaseRequest)}

    def take(self, model: Any) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class _Life:
    """One case played through the transition table in memory."""

    def __init__(self, gen: _Generator, case: Case, category: Category, grid: _Grid, at: datetime,
                 actor: tuple[int | None, str], stop_at: CaseState | None) -> None:
        self.g, self.case, self.category, self.grid, self.now = gen, case, category, grid, at
        self.stop_at = stop_at
        self.assignments: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.updated = at
        self._event(at, "report", None, "", {"channel": case.channel}, actor, True)

    # -- the engine's bookkeeping --------------------------------------------------------------------

    def _event(self, at: datetime, action: str, from_state: str | None, note: str, data: dict[str, Any],
               actor: tuple[int | None, str], public: bool) -> None:
        c = self.case
        self.events.append({
            "id": self.g.ids.take(CaseEvent), "case_id": c.id, "area_path": c.area_path, "at": at, "action": action,
            "actor_id": actor[0], "actor_name": actor[1], "from_state": from_state, "to_state": c.state,
            "version": c.version, "note": note, "data": data, "attachment_ids": [], "public": public,
        })

    def scan(self, until: datetime) -> None:
        """The deadline scan, at each alert instant of the running step that passed before ``until``."""
        c = self.case
        while c.step_segment_start is not None:
            pending = [(lv, at) for lv, at in ((deadlines.Alert.WARNED, c.step_warn_at),
                                               (deadlines.Alert.OVERDUE, c.step_due_at),
                                               (deadlines.Alert.ESCALATED, c.step_escalate_at))
                       if c.step_alert < lv and at is not None and at + SCAN_DELAY < until]
            if not pending:
                return
            level, at = pending[0]
            at += SCAN_DELAY
            c.step_alert = level
            c.version += 1
            self.updated = at
            if level == deadlines.Alert.OVERDUE:
                c.overdue_steps += 1
                c.late_steps |= Step(cast(str, c.step)).bit  # a running step has its name
                self._event(at, "overdue", c.state, "", {"step": c.step}, (None, "deadlines"), False)
            elif level == deadlines.Alert.ESCALATED:
                c.supervised = True
                self._event(at, "auto_supervise", c.state, "", {"step": c.step}, (None, "deadlines"), False)

    def can(self, at: datetime) -> bool:
        """Does the case still move at ``at``: before the end of the history, and not stalled."""
        return at <= self.g.end and self.case.state != self.stop_at

    def act(self, at: datetime, action: str, actor: tuple[int | None, str], *, to: CaseState | None = None,
            note: str = "", data: dict[str, Any] | None = None) -> bool:
        """Apply ``action`` at ``at`` unless the case no longer moves then (it stays as it is)."""
        if not self.can(at):
            return False
        self.scan(at)
        c, transition = self.case, ACTIONS[action]
        data = dict(data or {})
        from_state = CaseState(c.state)
        target = to or (transition.targets[0] if transition.targets else from_state)
        c.state = target.value
        if transition.clock is Clock.PAUSE:
            deadlines.pause(c, self.g.calendar, at)
        elif transition.clock is Clock.RESUME:
            deadlines.resume(c, self.g.calendar, at)
        elif transition.clock is Clock.RESTART or target is not from_state:
            ended = deadlines.finish_step(c, at)
            if ended is not None:
                data.update(ended)
            step = STEP_OF_STATE.get(target)
            if step is None:
                deadlines.clear_step(c)
            else:
                deadlines.start_step(c, step, self.category, self.g.calendar, at)
        c.last_action_at = self.updated = self.now = at
        c.version += 1
        self._event(at, action, from_state.value, note, data, actor, transition.public)
        return True

    # -- timing ----------------------------------------------------------------------------------------

    def step_end(self, late: float) -> datetime:
        """When the running step ends: a share of its limit in working time, late with probability ``late``."""
        c, rng = self.case, self.g.rng
        fraction = float(rng.uniform(1.02, 2.2)) if rng.random() < late else float(rng.beta(2.0, 4.0))
        limit = (c.step_limit_seconds or 3600.0) - c.step_used_seconds
        start = c.step_segment_start or self.now
        end = self.g.calendar.add_working_hours(start, max(60.0, fraction * limit) / 3600)
        return max(end, self.now + timedelta(minutes=1))

    def later(self, low_hours: float, high_hours: float) -> datetime:
        return self.g.calendar.add_working_hours(self.now, float(self.g.rng.uniform(low_hours, high_hours)))


class _Generator:
    def __init__(self, session: Session, world: _World, calendar: WorkCalendar, rng: np.random.Generator,
                 tz: ZoneInfo, end: datetime) -> None:
        self.session, self.world, self.calendar, self.rng, self.tz, self.end = session, world, calendar, rng, tz, end
        self.ids = _Ids(session)
        self.codes: set[str] = set()
        self.registered_by_grid: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.lives: list[_Life] = []

    # -- one case --------------------------------------------------------------------------------------

    def tracking_code(self, at: datetime) -> str:
        while True:
            code = at.astimezone(self.tz).strftime("%y%m") + "".join(
                CODE_ALPHABET[i] for i in self.rng.integers(len(CODE_ALPHABET), size=10))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def attributes(self, category: Category) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in category.fields or []:
            name, kind = spec["name"], spec["type"]
            if name == "owner":
                owners = list(OWNER_WEIGHTS)
                weights = np.array([OWNER_WEIGHTS[o] for o in owners], dtype=float)
                out[name] = owners[int(self.rng.choice(len(owners), p=weights / weights.sum()))]
            elif not spec.get("required") and self.rng.random() < 0.5:
                continue
            elif kind == "choice":
                out[name] = spec["choices"][int(self.rng.integers(len(spec["choices"])))]
            elif kind == "number":
                out[name] = int(self.rng.integers(2, 6)) if name == "parties" else int(self.rng.integers(500, 50000))
            elif kind == "bool":
                out[name] = bool(self.rng.random() < 0.3)
            else:
                out[name] = f"ZD{int(self.rng.integers(10000, 99999))}"
        return out

    def description(self, category: Category, grid: _Grid, attributes: dict[str, Any]) -> str:
        place = grid.name + PLACES[int(self.rng.integers(len(PLACES)))]
        pool = TEMPLATES.get(category.code) or KIND_TEMPLATES[CategoryKind(category.kind)]
        text_ = pool[int(self.rng.integers(len(pool)))]
        return text_.format(place=place, name=category.name_zh, condition=attributes.get("condition", "存在问题"))

    def report(self, n: int, at: datetime, grid: _Grid, category: Category) -> _Life:
        w, rng = self.world, self.rng
        channels = list(CHANNEL_WEIGHTS)
        channel = channels[int(rng.choice(len(channels), p=list(CHANNEL_WEIGHTS.values())))]
        attributes = self.attributes(category)
        description = self.description(category, grid, attributes)
        reporter_user: tuple[int, str] | None = None
        submitter: tuple[int | None, str]
        name = phone = None
        anonymous, api_client_id = False, None
        if channel is Channel.GRID:
            reporter_user = submitter = grid.worker
        elif channel is Channel.CITIZEN:
            if rng.random() < 0.25:
                anonymous, submitter = True, (None, "public")
            else:
                reporter_user = submitter = w.citizen
                name, phone = names.person_name(rng), names.mobile(rng)
        elif channel is Channel.HOTLINE:
            submitter = w.hotline[int(rng.integers(len(w.hotline)))]
            name, phone = names.person_name(rng), names.mobile(rng)
        elif channel is Channel.API:
            submitter, api_client_id = (None, f"api:{w.api_client.name}"), w.api_client.id
        else:
            dept = w.departments[grid.district_path]["cgj"]
            reporter_user = submitter = w.handlers[dept.id]
        key = f"api:{api_client_id}" if api_client_id else f"user:{submitter[0]}" if submitter[0] else None
        location = {"lon": 0.0, "lat": 0.0}
        case = Case(
            id=self.ids.take(Case), version=1, tracking_code=self.tracking_code(at), submitter_key=key,
            idempotency_key=f"demo-history-{n:06d}", request_hash="", channel=channel.value,
            state=S.REPORTED.value, category_id=category.id, urgency=category.default_urgency,
            description=description, attributes=attributes, lon=0.0, lat=0.0, address="", grid_id=grid.id,
            area_path=grid.path, centre_area_id=w.centres[grid.community_path].area_id,
            centre_path=grid.community_path, occurred_at=None, reported_at=at,
            reporter_user_id=reporter_user[0] if reporter_user else None, submitted_by_id=submitter[0],
            api_client_id=api_client_id, anonymous=anonymous, reporter_name=name, reporter_phone=phone,
            reporter_name_hash=blind_hash("name", name) if name else None,
            reporter_phone_hash=blind_hash("phone", phone) if phone else None,
            routing=None, main_department_id=None, merged_into_id=None, self_resolved=False, handled_by_id=None,
            step_used_seconds=0.0, step_alert=0, supervised=False, listed_supervision=False, rework_count=0,
            return_count=0, extension_count=0, overdue_steps=0, late_steps=0, rating=None, registered_at=None,
            dispatched_at=None, handled_at=None, closed_at=None, last_action_at=at,
        )
        case.lon, case.lat = self.point(grid)
        location.update(lon=case.lon, lat=case.lat)
        body: dict[str, Any] = {"channel": channel.value, "category_id": category.id, "description": description,
                "location": location, "address": "", "attributes": attributes, "urgency": None,
                "occurred_at": None, "reporter": {"name": name, "phone": phone} if name else None,
                "anonymous": anonymous, "self_resolved": False, "self_resolution_note": None,
                "self_resolution_attachment_ids": [], "attachments": []}
        case.request_hash = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        case.submitter_key = key or f"anon:{case.request_hash[:32]}"  # as shiyu.cases.intake.service.submitter_key
        deadlines.start_step(case, Step.REGISTER, category, self.calendar, at)
        stop_at = STALLED[int(rng.integers(len(STALLED)))] if rng.random() < STALL_SHARE else None
        return _Life(self, case, category, grid, at, submitter, stop_at)

    def point(self, grid: _Grid) -> tuple[float, float]:
        minx, miny, maxx, maxy = grid.polygon.bounds
        while True:
            xs = self.rng.uniform(minx, maxx, 16)
            ys = self.rng.uniform(miny, maxy, 16)
            inside = np.flatnonzero(shapely.contains_xy(grid.polygon, xs, ys))
            if inside.size:
                return round(float(xs[inside[0]]), 6), round(float(ys[inside[0]]), 6)

    # -- the loop ----------------------------------------------------------------------------------------

    def live(self, life: _Life) -> None:
        rng, w, c, grid = self.rng, self.world, life.case, life.grid
        community_op = w.operators[grid.community_path]
        if c.channel == Channel.GRID and rng.random() < 0.12:
            self.self_resolve(life)
            return
        decided = life.step_end(0.03)
        roll = rng.random()
        earlier = self.registered_by_grid[grid.id]
        if roll < 0.04:
            life.act(decided, "reject", community_op, note=REASONS_REJECT[int(rng.integers(len(REASONS_REJECT)))])
            return
        if roll < 0.07 and earlier:
            into_id, into_code = earlier[int(rng.integers(len(earlier)))]
            if life.act(decided, "merge", community_op, note="重复上报", data={"into_case_id": into_id,
                                                                          "into_tracking_code": into_code}):
                c.merged_into_id = into_id
            return
        if not life.can(decided):
            return
        c.registered_at = decided
        c.routing = _routing(self.session, w, life.category, grid, c.attributes.get("owner"))
        life.act(decided, "register", community_op, data={"routing": c.routing})
        earlier.append((c.id, c.tracking_code))
        own = {d.id for d in w.departments.get(grid.community_path, {}).values()}
        if c.routing["department_id"] not in own and not self.send_up(life):  # the community's own: no escalation
            return
        self.dispatch_and_handle(life)

    def send_up(self, life: _Life) -> bool:
        """From the community to the district: most cases in one 转派上级部门 to the district bureau the rules
        name; every fourth (by id, so the random draws stay as they were) the older way, 上报上级 twice."""
        w, c, grid = self.world, life.case, life.grid
        suggested = (c.routing or {}).get("department_id")
        dept = next((d for d in w.departments[grid.district_path].values() if d.id == suggested), None)
        district = w.centres[grid.district_path]
        if dept is not None and c.id % 4:
            data = {"from_centre_path": grid.community_path, "centre_id": district.id, "centre_name": district.name,
                    "department_id": dept.id, "department_name": dept.name, "followed_suggestion": True}
            if not life.act(life.step_end(0.02), "forward", w.operators[grid.community_path],
                            note=f"按派遣规则应由{dept.name}办理，转至{district.name}派遣", data=data):
                return False
            c.centre_area_id, c.centre_path = district.area_id, district.area_path
            return True
        for lower, upper in ((grid.community_path, grid.street_path), (grid.street_path, grid.district_path)):
            centre = w.centres[upper]
            data = {"from_centre_path": lower, "centre_id": centre.id, "centre_name": centre.name}
            if not life.act(life.step_end(0.02), "escalate", w.operators[lower], note="超出本级处置能力，上报上级",
                            data=data):
                return False
            c.centre_area_id, c.centre_path = centre.area_id, centre.area_path
        return True

    def self_resolve(self, life: _Life) -> None:
        c, grid = life.case, life.grid
        at = life.now + timedelta(minutes=int(self.rng.integers(5, 60)))
        closes = life.category.self_resolve_closes
        c.self_resolved, c.handled_by_id, c.handled_at = True, grid.worker[0], at
        data = {"closed_by_rule": True} if closes else {}
        if closes:
            c.closed_at = at
        if not life.act(at, "self_resolve", grid.worker, to=S.CLOSED if closes else S.TO_VERIFY,
                        note="现场已自行处置", data=data):
            c.self_resolved, c.handled_by_id, c.handled_at, c.closed_at = False, None, None, None
            return
        if closes:
            return
        if life.act(life.step_end(0.02), "verify_pass", grid.leader):
            at = life.later(0.2, 3)
            if life.can(at):
                c.closed_at = at
                life.act(at, "close", self.world.operators[grid.community_path])

    def _department(self, life: _Life, wrong: bool) -> Department:
        depts = self.world.departments[life.case.centre_path]  # the district's, or the community's own
        suggested = life.case.routing.get("department_id") if life.case.routing else None
        right = next((d for d in depts.values() if d.id == suggested), None) or depts["cgj"]
        if not wrong:
            return right
        others = [d for d in depts.values() if d.id != right.id and life.category.kind in d.category_kinds]
        return others[int(self.rng.integers(len(others)))] if others else right

    def dispatch(self, life: _Life, wrong: bool = False) -> Department | None:
        c = life.case
        dept = self._department(life, wrong)
        at = life.step_end(0.02)
        if not life.can(at):
            return None
        for a in life.assignments:
            a["active"] = False
        life.assignments.append({"id": self.ids.take(CaseAssignment), "case_id": c.id, "department_id": dept.id,
                                 "role": AssignmentRole.MAIN.value, "active": True, "assigned_at": at,
                                 "reported_at": None, "report_note": None, "area_path": c.area_path})
        c.main_department_id, c.dispatched_at = dept.id, at
        suggested = (c.routing or {}).get("department_id")
        life.act(at, "dispatch", self.world.operators[c.centre_path], data={
            "department_id": dept.id, "department_name": dept.name, "assist_department_ids": [],
            "followed_suggestion": suggested == dept.id})
        return dept

    def dispatch_and_handle(self, life: _Life) -> None:
        rng, w, c = self.rng, self.world, life.case
        if rng.random() < 0.06:
            dept = self.dispatch(life, wrong=True)
            if dept is None:
                return
            at = life.step_end(0.02)
            if not life.can(at):
                return
            for a in life.assignments:
                a["active"] = False
            c.main_department_id = None
            c.return_count += 1
            life.act(at, "return", w.handlers[dept.id], note=REASONS_RETURN[int(rng.integers(len(REASONS_RETURN)))],
                     data={"department_id": dept.id})
        dept = self.dispatch(life)
        if dept is None:
            return
        handler = w.handlers[dept.id]
        if not life.act(life.step_end(0.03), "accept", handler):
            return
        if not self.handle(life, handler):
            return
        self.verify_close_evaluate(life, dept, handler)

    def handle(self, life: _Life, handler: tuple[int, str]) -> bool:
        """The handle step up to the result report; False when the history ends first."""
        rng, w, c = self.rng, self.world, life.case
        leader = w.leaders.get(c.centre_path)  # a community centre has none: nobody to ask for more time
        if leader and c.id % 9 == 0 and not life.act(life.now + timedelta(hours=3), "urge", leader):  # 催办
            return False
        if rng.random() < 0.04 and not c.supervised:
            listed = bool(rng.random() < 0.25)
            if not life.act(life.later(1, 8), "supervise", w.city_leader, note="请加快办理", data={"listed": listed}):
                return False
            c.supervised, c.listed_supervision = True, c.listed_supervision or listed
        if leader is not None and (rng.random() < 0.03 or life.stop_at is S.SUSPENDED):
            decision = self.request(life, RequestKind.SUSPENSION, handler, leader, None, None)
            if decision is None:
                return False
            if decision is RequestStatus.APPROVED and not life.act(life.later(24, 240), "resume", handler):
                return False
        late = 0.06
        if leader is not None and rng.random() < 0.08:
            amount = float(rng.integers(1, 4))
            decision = self.request(life, RequestKind.EXTENSION, handler, leader, amount, "working_days")
            if decision is None:
                return False
            late = 0.03 if decision is RequestStatus.APPROVED else late
        result = RESULTS[int(rng.integers(len(RESULTS)))]
        at = life.step_end(late)
        if not life.can(at):
            return False
        c.handled_by_id, c.handled_at = handler[0], at
        main = next(a for a in life.assignments if a["active"] and a["role"] == AssignmentRole.MAIN.value)
        main["reported_at"], main["report_note"] = at, result
        return life.act(at, "report_result", handler, note=result)

    def request(self, life: _Life, kind: RequestKind, handler: tuple[int, str], leader: tuple[int, str],
                amount: float | None, unit: str | None) -> RequestStatus | None:
        """Ask and decide; the decision, or None when the history ends before it."""
        rng, c = self.rng, life.case
        asked = life.later(1, 6)
        reason = "需协调多个单位，申请延期办理" if kind is RequestKind.EXTENSION else "需等待施工季节，申请挂账"
        if not life.act(asked, f"request_{kind.value}", handler, note=reason,
                        data={"kind": kind.value, "amount": amount, "unit": unit}):
            return None
        row = {"id": self.ids.take(CaseRequest), "case_id": c.id, "kind": kind.value,
               "status": RequestStatus.PENDING.value, "amount": amount, "unit": unit, "reason": reason,
               "requested_by_id": handler[0], "requested_at": asked, "decided_by_id": None, "decided_at": None,
               "decision_note": None, "area_path": c.area_path}
        life.requests.append(row)
        decided = life.later(0.5, 4)
        deny = rng.random() < 0.15 and life.stop_at is not S.SUSPENDED
        if not life.can(decided):
            return None
        row.update(status=(RequestStatus.DENIED if deny else RequestStatus.APPROVED).value, decided_by_id=leader[0],
                   decided_at=decided, decision_note="理由不充分" if deny else "同意")
        data = {"request_id": row["id"], "kind": kind.value, "decision": row["status"]}
        status = RequestStatus.DENIED if deny else RequestStatus.APPROVED
        if deny:
            life.act(decided, f"deny_{kind.value}", leader, note="理由不充分", data=data)
            return status
        if kind is RequestKind.EXTENSION:
            life.scan(decided)
            assert amount is not None and unit is not None
            deadlines.extend(c, amount, unit, self.calendar, decided)
            c.extension_count += 1
            data["due_at"] = c.step_due_at.isoformat() if c.step_due_at else None
        life.act(decided, f"approve_{kind.value}", leader, note="同意", data=data)
        return status

    def verify_close_evaluate(self, life: _Life, dept: Department, handler: tuple[int, str]) -> None:
        rng, w, c, grid = self.rng, self.world, life.case, life.grid
        while rng.random() < 0.07:
            if not life.act(life.step_end(0.02), "verify_fail", grid.worker, to=S.HANDLING, note="现场核查未整改到位"):
                return
            c.rework_count += 1
            for a in life.assignments:
                if a["department_id"] == c.main_department_id:
                    a["reported_at"] = None
            if not self.handle(life, handler):
                return
        if not life.act(life.step_end(0.02), "verify_pass", grid.worker):
            return
        at = life.later(0.2, 6)
        if not life.can(at):
            return
        c.closed_at = at
        life.act(at, "close", w.operators[c.centre_path])
        if rng.random() > 0.7:
            return
        roll = rng.random()
        rating = "satisfied" if roll < 0.75 else "basically" if roll < 0.92 else "unsatisfied"
        who = c.reporter_user_id and c.channel == Channel.CITIZEN
        evaluator = w.citizen if who else w.hotline[int(rng.integers(len(w.hotline)))]
        at = life.now + timedelta(hours=float(rng.uniform(2, 72)))
        if not life.can(at):
            return
        c.rating = rating
        life.act(at, "evaluate", evaluator, data={"rating": rating})
        if rating == "unsatisfied" and rng.random() < 0.5:
            if not life.act(life.later(1, 16), "reopen", w.operators[c.centre_path], note="群众不满意，重新办理",
                            data={"previous_rating": rating}):
                return
            c.rating = c.closed_at = None
            for a in life.assignments:
                a["active"] = False
            c.main_department_id = None
            self.dispatch_and_handle(life)


def generate(session: Session, tz: ZoneInfo, *, seed: int, end: datetime, cases: int = DEFAULT_CASES,
             days: int = HISTORY_DAYS) -> HistoryReport:
    """Write ``cases`` cases reported over the ``days`` days before ``end``, as they stand at ``end``."""
    rng = np.random.default_rng([seed, 3])
    world = _load(session, rng)
    base = load_calendar(session, tz)
    calendar = _CachedCalendar(tz=base.tz, periods=base.periods, holidays=base.holidays,
                               makeup_days=base.makeup_days, weekend=base.weekend)
    gen = _Generator(session, world, calendar, rng, tz, end)
    weights = np.array([CATEGORY_WEIGHTS.get(c.code, 1) for c in world.categories], dtype=float)
    category_of = rng.choice(len(world.categories), size=cases, p=weights / weights.sum())
    households = np.array([g.households for g in world.grids], dtype=float)
    grid_of = rng.choice(len(world.grids), size=cases, p=households / households.sum())
    start = end - timedelta(days=days)
    # Reports follow the working day: mostly office hours (patrols), some evenings and weekends.
    offsets = np.sort(rng.uniform(0, days, size=cases))
    for n in range(cases):
        day = start + timedelta(days=float(offsets[n]))
        local = day.astimezone(tz)
        if rng.random() < 0.8:
            local = local.replace(hour=int(rng.integers(8, 18)), minute=int(rng.integers(0, 60)))
        at = min(local, end - timedelta(minutes=1))
        life = gen.report(n, at, world.grids[int(grid_of[n])], world.categories[int(category_of[n])])
        gen.live(life)
        life.scan(end)
        gen.lives.append(life)
    gen.lives.sort(key=lambda life: life.case.id)
    return _write(session, gen)


def _write(session: Session, gen: _Generator) -> HistoryReport:
    columns = [c.key for c in Case.__table__.columns]
    rows = []
    for life in gen.lives:
        life.case.created_at, life.case.updated_at = life.case.reported_at, life.updated
        rows.append({k: getattr(life.case, k) for k in columns})
    # Merge targets are earlier cases: inserting in id order keeps the self-reference satisfied.
    for chunk in range(0, len(rows), 2000):
        session.execute(insert(Case.__table__), rows[chunk:chunk + 2000])
    events = [e for life in gen.lives for e in life.events]
    for chunk in range(0, len(events), 5000):
        session.execute(insert(CaseEvent.__table__), events[chunk:chunk + 5000])
    assignments = [a for life in gen.lives for a in life.assignments]
    if assignments:
        session.execute(insert(CaseAssignment.__table__), assignments)
    requests = [r for life in gen.lives for r in life.requests]
    if requests:
        session.execute(insert(CaseRequest.__table__), requests)
    if session.get_bind().dialect.name == "postgresql":
        for table in ("case", "case_event", "case_assignment", "case_request"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                 f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))"))
    session.flush()
    return HistoryReport(len(rows), len(events), Counter(life.case.state for life in gen.lives))
