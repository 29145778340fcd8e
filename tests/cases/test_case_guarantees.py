"""Concurrency (exactly one winner), idempotent intake under retries, deadlines across a weekend, a public
holiday and a make-up working day, the deadline scan run twice, and refused uploads."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from shiyu.cases import attachments
from shiyu.cases.categories.models import Step
from shiyu.cases.indicators import service
from shiyu.cases.models import Case, CaseEvent
from shiyu.cases.workflow import deadlines, engine
from shiyu.core.errors import ShiyuError
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import (  # noqa: F401
    OUTSIDE,
    SH,
    act,
    case_world,
    jpeg_bytes,
    png_bytes,
    principal,
    report,
)


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _count(s, model, **where) -> int:
    s.info["principal"] = Principal.system("test")
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return s.scalar(stmt)


def test_two_people_acting_at_once_one_wins(system_session, factory, w):
    s = system_session
    case = report(s, w).case
    version = case.version
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def register(who: str) -> None:
        with factory() as session:
            p = principal(session, w, who)
            session.info["principal"] = p
            engine.load_case(session, case.id)
            barrier.wait()
            try:
                engine.apply(session, p, case.id, "register", engine.ActionInput(expected_version=version), SH)
                session.commit()
                outcomes.append("ok")
            except ShiyuError as exc:
                session.rollback()
                outcomes.append(exc.code)
            except Exception as exc:  # noqa: BLE001 - the test reports any other failure below
                session.rollback()
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=register, args=(u,)) for u in ("leader_a", "operator_a")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"], outcomes
    assert _count(s, CaseEvent, case_id=case.id, action="register") == 1
    assert _count(s, OutboxEvent, aggregate_id=case.id, topic="case.register") == 1


def test_intake_is_idempotent_under_retries(system_session, factory, w):
    s = system_session
    first = report(s, w, key="phone-retry-0001")
    again = report(s, w, key="phone-retry-0001")
    assert first.created and not again.created and again.case.id == first.case.id
    assert again.evaluation_token == first.evaluation_token
    with pytest.raises(ShiyuError) as err:
        report(s, w, key="phone-retry-0001", address="另一个地址")
    assert err.value.status == 409 and err.value.code == "idempotency_key_reused"
    s.rollback()
    assert w.extra["category"].id and w.users["worker_a1"].id  # reload now, not concurrently from the threads

    results: list[object] = []
    barrier = threading.Barrier(4)

    def submit() -> None:
        with factory() as session:
            barrier.wait()
            try:
                results.append(report(session, w, key="phone-race-0002").case.id)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                results.append(repr(exc))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert _count(s, Case, idempotency_key="phone-race-0002") == 1


def test_outside_the_city_is_refused(system_session, w):
    with pytest.raises(ShiyuError) as err:
        report(system_session, w, point=OUTSIDE)
    assert err.value.status == 422 and err.value.code == "outside_city"


@pytest.mark.parametrize(("start", "hours", "due"), [
    # Friday 16:00 + 2 working hours: 1.5 h on Friday, 0.5 h on Monday morning.
    (datetime(2026, 9, 11, 16, 0, tzinfo=SH), 2, datetime(2026, 9, 14, 9, 0, tzinfo=SH)),
    # Wednesday before National Day: the holiday week (1–7 Oct) is skipped.
    (datetime(2026, 9, 30, 16, 0, tzinfo=SH), 2, datetime(2026, 10, 8, 9, 0, tzinfo=SH)),
    # Friday 9 Oct 16:00: Saturday 10 Oct is a make-up working day.
    (datetime(2026, 10, 9, 16, 0, tzinfo=SH), 2, datetime(2026, 10, 10, 9, 0, tzinfo=SH)),
])
def test_register_deadline_in_working_time(system_session, w, start, hours, due):
    case = report(system_session, w, now=start).case
    assert case.step == "register" and case.step_due_at == due
    assert deadlines.colour(case, start) is deadlines.Colour.GREEN
    assert deadlines.colour(case, due) is deadlines.Colour.RED


def test_yellow_at_80_percent(system_session, w):
    start = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
    case = report(system_session, w, now=start).case
    assert case.step_warn_at == datetime(2026, 9, 14, 10, 36, tzinfo=SH)  # 80 % of 2 h = 96 min
    assert deadlines.colour(case, datetime(2026, 9, 14, 10, 40, tzinfo=SH)) is deadlines.Colour.YELLOW


def test_scan_marks_overdue_once(system_session, factory, w):
    s = system_session
    start = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
    case = report(s, w, now=start).case
    later = datetime(2026, 9, 14, 15, 0, tzinfo=SH)  # 4.5 working hours later: past 150 % of 2 h
    first = deadlines.scan(factory, SH, later)
    assert (first.warned, first.overdue, first.escalated) == (1, 1, 1)
    s.expire_all()
    s.info["principal"] = Principal.system("test")
    case = s.get(Case, case.id)
    version = case.version
    assert case.supervised and case.overdue_steps == 1 and case.step_alert == deadlines.Alert.ESCALATED
    second = deadlines.scan(factory, SH, later)
    assert (second.warned, second.overdue, second.escalated) == (0, 0, 0)
    s.expire_all()
    assert s.get(Case, case.id).version == version
    assert _count(s, CaseEvent, case_id=case.id, action="overdue") == 1
    assert _count(s, OutboxEvent, aggregate_id=case.id, topic="case.overdue") == 1


def test_step_finished_late_without_a_scan_counts_as_late(system_session, factory, w):
    s = system_session
    start = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
    case = report(s, w, now=start).case
    due = case.step_due_at
    case = act(s, w, "leader_a", case, "register", now=datetime(2026, 9, 14, 14, 0, tzinfo=SH))
    assert case.late_steps == Step.REGISTER.bit and case.overdue_steps == 0
    event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "register")).one()
    assert event.data["step"] == "register" and event.data["late"] is True
    assert datetime.fromisoformat(event.data["due_at"]) == due
    on_time = act(s, w, "leader_a", report(s, w, now=start).case, "register",
                  now=datetime(2026, 9, 14, 10, 0, tzinfo=SH))
    assert on_time.late_steps == 0
    q = service.resolve(s, Principal.system("test"), SH, start=date(2026, 9, 14), end=date(2026, 9, 14))
    assert service.raw_totals(s, q)["overdue"] == 1


def test_scan_marks_the_late_bit_of_the_running_step(system_session, factory, w):
    s = system_session
    case = report(s, w, now=datetime(2026, 9, 14, 9, 0, tzinfo=SH)).case
    deadlines.scan(factory, SH, datetime(2026, 9, 14, 15, 0, tzinfo=SH))
    s.expire_all()
    s.info["principal"] = Principal.system("test")
    assert s.get(Case, case.id).late_steps == Step.REGISTER.bit


def test_lying_extension_refused():
    with pytest.raises(ShiyuError) as err:
        data, kind = attachments.read_limited(iter([png_bytes()]))
        attachments.store_upload(None, None, None, "photo.jpg", data, kind)  # type: ignore[arg-type]
    assert err.value.code == "file_extension_mismatch"
    with pytest.raises(ShiyuError) as err:
        attachments.read_limited(iter([b"MZ\x90\x00" + b"\x00" * 60]))
    assert err.value.code == "file_type_refused"
    with pytest.raises(ShiyuError) as err:
        attachments.read_limited(iter([jpeg_bytes()[:20] + b"\x00" * (16 * 1024 * 1024)]))
    assert err.value.code == "file_too_large"
