"""Visit plans and due dates: one record scheduled from its plan, the whole city recomputed in one statement
(same answer), warnings yellow then red, a case past the limit (naming the record, not the person), the
dashboard's figures and the indicators, retention after release."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, update

from shiyu.cases.categories.seed import seed_categories
from shiyu.cases.models import Case
from shiyu.core.scoping import Principal
from shiyu.keypersons import dashboard, escalation, plans, retention, service
from shiyu.keypersons.models import KeyPersonRecord, VisitPlan
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal

TZ = ZoneInfo("Asia/Shanghai")


def _age(s, record_id: int, days: int) -> None:
    """As if the last visit was ``days`` ago."""
    s.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == record_id)
              .values(last_visit_on=today() - timedelta(days=days)))


def test_the_plan_table_decides_and_the_city_is_recomputed_at_once(system_session):
    s = system_session
    w = world(s)
    mental = opened(s, w, w.extra["a"]["persons"][1], "mental", "0", {"diagnosis": "精神分裂症"})
    released = opened(s, w, w.extra["a"]["persons"][0])
    s.info["principal"] = Principal.system("test")
    assert service.get_record(s, mental).next_due_on == today() + timedelta(days=90)
    assert service.get_record(s, released).next_due_on == today() + timedelta(days=30)
    _age(s, mental, 10)
    s.execute(update(VisitPlan).where(VisitPlan.group_code == "mental", VisitPlan.grade == "0")
              .values(interval_days=60))
    assert plans.recompute_due(s) == 1  # only the row whose date changes is written
    s.expire_all()
    assert service.get_record(s, mental).next_due_on == today() + timedelta(days=50)
    assert service.get_record(s, released).next_due_on == today() + timedelta(days=30)


def test_a_missed_visit_turns_yellow_then_red_then_a_case(system_session, factory):
    s = system_session
    w = world(s)
    seed_categories(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0], grade="red")  # every 7 days
    s.info["principal"] = Principal.system("test")
    limits = plans.Limits(red_after_days=3, case_after_days=7)
    _age(s, record_id, 8)  # due yesterday
    plans.recompute_due(s)
    assert plans.raise_warnings(s, today(), limits) == {"red": 0, "yellow": 1}
    assert plans.raise_warnings(s, today(), limits) == {"red": 0, "yellow": 0}  # once per level
    _age(s, record_id, 10)
    plans.recompute_due(s)
    assert plans.raise_warnings(s, today(), limits)["red"] == 1
    s.commit()
    assert escalation.file_cases(factory, TZ, today(), limits) == []  # 3 days late: not yet a case
    _age(s, record_id, 14)
    plans.recompute_due(s)
    s.commit()
    filed = escalation.file_cases(factory, TZ, today(), limits)
    assert len(filed) == 1
    assert escalation.file_cases(factory, TZ, today(), limits) == []  # the record names its case now
    s.expire_all()
    case = s.get(Case, filed[0])
    assert case is not None and f"KP-{record_id}" in case.description and "陈" not in case.description
    assert case.area_path == w.grids["a1"].area_path
    record = service.get_record(s, record_id)
    assert record.case_id == filed[0] and record.warning == "red"
    assert [e["kind"] for e in service.timeline(s, record_id)][-1] == "case"


def test_the_dashboard_counts_and_rates(system_session):
    s = system_session
    w = world(s)
    on_time = opened(s, w, w.extra["a"]["persons"][0])
    late = opened(s, w, w.extra["a"]["persons"][1], "mental", "3", {"diagnosis": "精神分裂症"})
    lost = opened(s, w, w.extra["a"]["persons"][2], "drugs", "red", {"control": "社区康复"}, state="lost_contact")
    s.info["principal"] = Principal.system("test")
    _age(s, late, 30)
    plans.recompute_due(s)
    plans.raise_warnings(s, today(), plans.Limits())
    s.commit()
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    service.record_visit(s, worker, on_time, service.VisitReport(visited_on=today()), today())
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    board = dashboard.dashboard(s, leader, w.community_a.id, today())
    assert board["figures"] == {"enrolled": 2, "lost_contact": 1, "out_of_control": 1, "due_soon": 1, "overdue": 1,
                                "pending": 0}
    # 3 active, 1 in hand with no red warning: the mental record is red, the drugs record lost
    assert board["dynamic_rate"] == round(100 / 3, 1)
    assert board["on_time_rate"] == 100.0
    rows = {r["group_code"]: r for r in board["rows"]}
    assert rows["drugs"]["control_rate"] == 0.0 and rows["released"]["control_rate"] == 100.0
    assert {r["area_name"] for r in board["rows"]} == {"甲社区第一网格"}
    assert lost


def test_a_worker_sees_their_visits_soonest_first(system_session):
    s = system_session
    w = world(s)
    first = opened(s, w, w.extra["a"]["persons"][1], "mental", "3", {"diagnosis": "精神分裂症"})
    second = opened(s, w, w.extra["a"]["persons"][0])
    s.info["principal"] = Principal.system("test")
    assert [r.id for r in plans.worker_visits(s, w.users["worker_a1"].id, today())] == [first, second]
    assert plans.worker_visits(s, w.users["worker_a2"].id, today()) == []


def test_closed_records_lose_their_personal_data_after_the_retention(system_session):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    service.act(s, leader, record_id, "release", today=today() - timedelta(days=400))
    s.info["principal"] = Principal.system("test")
    assert retention.erase(s, today(), 500) == 0
    assert retention.erase(s, today(), 365) == 1
    s.expire_all()
    record = s.scalar(select(KeyPersonRecord).where(KeyPersonRecord.id == record_id))
    assert record is not None and record.attributes is None and record.guardian_name is None
    assert record.group_code == "released" and record.state == "released"
    assert retention.erase(s, today(), 365) == 0


def test_the_dashboards_grouped_counts_are_planned_for_their_own_area(system_session):
    """psycopg prepares a statement from its fifth run and PostgreSQL may then keep a generic plan: on 200,000
    records the city leader's dashboard went from 230 ms to 520 ms from its eleventh request on
    (bench/key_persons.py). Its grouped counts run under force_custom_plan, reset after them."""
    s = system_session
    w = world(s)
    opened(s, w, w.extra["a"]["persons"][0])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(s.get_bind(), "before_cursor_execute", listen)
    try:
        dashboard.dashboard(s, leader, w.community_a.id, today())
    finally:
        event.remove(s.get_bind(), "before_cursor_execute", listen)
    counts = [i for i, q in enumerate(statements)
              if q.startswith(("SELECT substr(kp_record.", "SELECT substr(kp_visit.", "SELECT count(*) FILTER"))]
    assert len(counts) == 3  # the figures, the indicators' records and visits
    if s.connection().dialect.name != "postgresql":
        assert not any("plan_cache_mode" in q for q in statements)
        return
    forced = [i for i, q in enumerate(statements) if q == "SET LOCAL plan_cache_mode = force_custom_plan"]
    resets = [i for i, q in enumerate(statements) if q == "SET LOCAL plan_cache_mode TO DEFAULT"]
    assert all(any(f < c < r for f, r in zip(forced, resets, strict=True)) for c in counts)
    assert s.connection().exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
