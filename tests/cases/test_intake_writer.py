"""Group commit: reports written together in one transaction, each answered with its own case or error."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from sqlalchemy import delete, func, select

from shiyu.cases.categories.models import Category
from shiyu.cases.intake.writer import IntakeWriter, Report
from shiyu.cases.models import Case, CaseEvent, CaseState
from shiyu.cases.schemas import IntakeIn
from shiyu.core.audit import AuditEntry
from shiyu.core.errors import ShiyuError
from shiyu.core.outbox import OutboxEvent
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import OUTSIDE, POINT_A1, SH, case_world, evidence, principal


@pytest.fixture
def w(system_session):
    world = case_world(system_session)
    system_session.commit()
    return world


def _body(w, key: str, **extra) -> IntakeIn:
    fields = {"idempotency_key": key, "channel": "grid", "category_id": w.extra["category"].id,
              "description": "人行道上有流动摊贩占道经营", "location": POINT_A1, **extra}
    return IntakeIn(**fields)


def _as(w, who: str):
    def caller(session):
        return principal(session, w, who)

    return caller


def _report(w, who: str, key: str, **extra) -> Report:
    return Report(_as(w, who), "10.0.0.7", _body(w, key, **extra))


def _answer(future: Future) -> dict | ShiyuError:
    try:
        return future.result(timeout=30)
    except ShiyuError as error:
        return error


def _count(s, model, *where) -> int:
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_batch_writes_each_report_as_its_reporter(system_session, factory, w):
    writer = IntakeWriter(factory, SH)
    caller = {"name": "陈先生", "phone": "13900001234"}
    reports = [_report(w, "worker_a1", "batch-0001"), _report(w, "operator_a", "batch-0002", reporter=caller),
               _report(w, "worker_a1", "batch-0003")]
    writer.write_batch(reports)
    answers = [_answer(r.answer) for r in reports]
    assert all(a["created"] and a["state"] == CaseState.REPORTED for a in answers), answers
    assert len({a["id"] for a in answers}) == 3
    s = system_session
    for report, answer in zip(reports, answers, strict=True):
        case = s.get(Case, answer["id"])
        who = "worker_a1" if report.data.idempotency_key != "batch-0002" else "operator_a"
        assert case.submitter_key == f"user:{w.users[who].id}"
        assert _count(s, CaseEvent, CaseEvent.case_id == case.id, CaseEvent.actor_id == w.users[who].id) == 1
        assert _count(s, OutboxEvent, OutboxEvent.aggregate_id == case.id, OutboxEvent.topic == "case.reported") == 1
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "case",
                                                     AuditEntry.object_id == str(case.id))).all()
        assert [(e.action, e.actor_name, e.ip) for e in entries] == [("create", who, "10.0.0.7")]
        assert entries[0].after["id"] == case.id
        if who == "operator_a":  # personal data: encrypted, blind-indexed, never in the audit log
            assert case.reporter_phone == "13900001234"
            assert case.reporter_phone_hash == blind_hash("phone", "13900001234")
            assert entries[0].after["reporter_phone"] == entries[0].after["reporter_phone_hash"] == "***"
        else:
            assert case.reporter_phone_hash is None and entries[0].after["reporter_phone"] is None


def test_a_refused_report_does_not_stop_the_others(system_session, factory, w):
    writer = IntakeWriter(factory, SH)
    good, outside, stranger = (_report(w, "worker_a1", "mixed-0001"),
                               _report(w, "worker_a1", "mixed-0002", location=OUTSIDE),
                               _report(w, "worker_b1", "mixed-0003"))
    writer.write_batch([good, outside, stranger])
    assert _answer(good.answer)["created"]
    assert _answer(outside.answer).code == "outside_city"
    assert _answer(stranger.answer).code == "channel_not_allowed"  # b1's worker has no grant in a1
    assert _count(system_session, Case, Case.idempotency_key.like("mixed-%")) == 1


def test_the_same_key_twice_in_a_batch_makes_one_case(system_session, factory, w):
    writer = IntakeWriter(factory, SH)
    first, retry, reused = (_report(w, "worker_a1", "twice-0001"), _report(w, "worker_a1", "twice-0001"),
                            _report(w, "worker_a1", "twice-0001", address="另一个地址"))
    writer.write_batch([first, retry, reused])
    a, b = _answer(first.answer), _answer(retry.answer)
    assert a["created"] and not b["created"] and a["id"] == b["id"]
    assert a["evaluation_token"] == b["evaluation_token"]
    assert _answer(reused.answer).code == "idempotency_key_reused"
    assert _count(system_session, Case, Case.idempotency_key == "twice-0001") == 1


def test_a_batch_the_database_refuses_is_written_report_by_report(system_session, factory, w):
    """A category is removed after a report filed under it was checked: the batch's INSERT breaks its
    foreign key, so each report is written alone, and only the one filed under that category is refused."""
    s = system_session
    s.info["principal"] = Principal.system("test")
    doomed = Category(kind="incident", parent_id=w.extra["category"].parent_id, code="TMP-01", name_zh="临时",
                      time_limits=w.extra["category"].time_limits, fields=[])
    s.add(doomed)
    s.commit()
    writer = IntakeWriter(factory, SH)
    fine, orphan, last = (_report(w, "worker_a1", "fk-000001"), _report(w, "worker_a1", "fk-000002"),
                          _report(w, "worker_a1", "fk-000003"))
    orphan.data = _body(w, "fk-000002", category_id=doomed.id)

    def remove_category(session):
        with factory() as other:
            other.execute(delete(Category).where(Category.id == doomed.id))
            other.commit()
        return principal(session, w, "worker_a1")

    last.caller = remove_category  # after the orphan was checked, before the batch is written
    writer.write_batch([fine, orphan, last])
    assert _answer(fine.answer)["created"] and _answer(last.answer)["created"]
    assert _answer(orphan.answer).code == "category_not_selectable"
    assert _count(s, Case, Case.idempotency_key.like("fk-%")) == 2


def test_submitted_reports_are_answered_after_commit_and_self_resolution_goes_alone(system_session, factory, w):
    """A self-resolution the workflow refuses (no evidence) leaves no case behind, and costs the others
    nothing."""
    proof = evidence(system_session, "worker_a1")
    system_session.commit()
    writer = IntakeWriter(factory, SH)
    try:
        plain = writer.submit(_as(w, "worker_a1"), None, _body(w, "thread-0001"))
        resolved = writer.submit(_as(w, "worker_a1"), None, _body(
            w, "thread-0002", self_resolved=True, self_resolution_note="当场劝离",
            self_resolution_attachment_ids=[proof]))
        unproven = writer.submit(_as(w, "worker_a1"), None, _body(w, "thread-0003", self_resolved=True,
                                                                   self_resolution_note="当场劝离"))
        a, b, c = _answer(plain), _answer(resolved), _answer(unproven)
    finally:
        writer.close()
    assert a["state"] == CaseState.REPORTED and a["created"]
    assert b["state"] == CaseState.TO_VERIFY and b["version"] > 1, b
    assert c.code == "evidence_required"
    with factory() as other:  # committed before the answers were given
        other.info["principal"] = Principal.system("test")
        assert other.get(Case, a["id"]) is not None and other.get(Case, b["id"]).state == b["state"]
        assert other.scalar(select(func.count()).select_from(Case).where(Case.idempotency_key == "thread-0003")) == 0
