"""The mediation limit (调解期限, 人民调解工作若干规定 第三十三条): a month from the assignment, kept when the
mediator changes, extended by a month with a reason, started again at the next level; the desk, the record and
the workbench show the days left, yellow in the last five, red once past."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from shiyu.core.errors import ValidationFailed
from shiyu.core.timeutil import utcnow
from shiyu.disputes import limits
from shiyu.disputes.models import Dispute
from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute
from tests.web.test_pages import log_in

MONTH = timedelta(days=30)


def _close_to(a, b) -> bool:
    return abs((a - b).total_seconds()) < 60


def test_the_month_runs_from_the_assignment_and_is_extended_with_a_reason(system_session, world):
    s = system_session
    mediator, other = world.extra["mediator"], world.extra["other_mediator"]
    dispute = make_dispute(s)
    assert dispute.mediation_due_at is None and limits.standing(dispute, utcnow()) is None  # not yet accepted
    act(s, SYSTEM, dispute, "assign", mediator_id=mediator)
    due = dispute.mediation_due_at
    assert _close_to(due, utcnow() + MONTH)
    act(s, SYSTEM, dispute, "assign", mediator_id=other)  # another mediator: the same month
    assert dispute.mediation_due_at == due
    act(s, SYSTEM, dispute, "start")
    with pytest.raises(ValidationFailed):  # going on past the month needs the parties' consent, written down
        act(s, SYSTEM, dispute, "extend")
    act(s, SYSTEM, dispute, "extend", "双方当事人同意继续调解")
    assert dispute.mediation_due_at == due + MONTH and dispute.state == "mediating"

    now = utcnow()
    assert limits.standing(dispute, now).days == 60 and not limits.standing(dispute, now).warn
    assert limits.standing(dispute, due + MONTH - timedelta(days=4)).warn
    late = limits.standing(dispute, due + MONTH + timedelta(days=2, hours=1))
    assert late.overdue and late.days == 2  # whole days past
    assert limits.standing(dispute, due + MONTH + timedelta(hours=3)).days == 1  # past, if by less than a day
    act(s, SYSTEM, dispute, "fail", "双方分歧较大")
    assert limits.standing(dispute, now) is None  # the limit runs only while assigned or mediating


def test_an_escalated_dispute_starts_a_new_month_at_the_next_level(system_session, world):
    s = system_session
    dispute = make_dispute(s, state="failed", mediator_id=world.extra["mediator"])
    dispute.mediation_due_at = utcnow() - timedelta(days=3)
    s.flush()
    act(s, SYSTEM, dispute, "escalate", "社区调解不成，上报街道")
    act(s, SYSTEM, dispute, "assign", mediator_id=world.extra["other_mediator"])
    assert _close_to(dispute.mediation_due_at, utcnow() + MONTH)


def test_the_pages_show_the_days_left_and_the_overdue(client, system_session, world):
    s = system_session
    soon, late = make_dispute(s, title="楼道堆物纠纷"), make_dispute(s, title="宠物噪音纠纷")
    for dispute in (soon, late):
        act(s, SYSTEM, dispute, "assign", mediator_id=world.extra["mediator"])
    s.execute(update(Dispute).where(Dispute.id == late.id).values(mediation_due_at=utcnow() - timedelta(days=2)))
    s.commit()
    log_in(client, "operator_a")
    desk = client.get("/disputes").text
    assert "剩余30天" in desk and "已超期2天" in desk
    record = client.get(f"/disputes/{late.id}").text
    assert 'id="dispute-mediation"' in record and "已超期2天" in record and "延长调解期限" in record
    log_in(client, "mediator_a")
    assert "已超期2天" in client.get("/disputes/workbench").text


def test_the_scan_announces_the_last_five_days_and_the_month_passed_once(system_session, world, factory):
    from sqlalchemy import select

    from shiyu.core import outbox
    from shiyu.core.scoping import Principal
    from shiyu.disputes import tasks
    from shiyu.org.notices.models import Notice

    s = system_session
    dispute = make_dispute(s)
    act(s, SYSTEM, dispute, "assign", mediator_id=world.extra["mediator"])
    due = dispute.mediation_due_at
    s.commit()
    assert tasks.scan(factory) == {"yellow": 0, "red": 0}
    assert tasks.scan(factory, due - timedelta(days=4)) == {"yellow": 1, "red": 0}
    assert tasks.scan(factory, due - timedelta(days=3)) == {"yellow": 0, "red": 0}  # once
    assert tasks.scan(factory, due + timedelta(hours=1)) == {"yellow": 0, "red": 1}
    assert tasks.scan(factory, due + timedelta(hours=2)) == {"yellow": 0, "red": 0}
    outbox.deliver_pending(factory)

    def inbox(user: str) -> list[tuple[str, bool]]:
        s.info["principal"] = Principal.system("test")
        return [(n.kind, n.urgent) for n in s.scalars(select(Notice).where(
            Notice.user_id == world.users[user].id).order_by(Notice.id))]

    assert inbox("mediator_a") == [("dispute.limit_warning", False), ("dispute.overdue", True)]
    assert inbox("operator_a") == [("dispute.overdue", True)] and inbox("leader_b") == []
    s.expire_all()
    dispute = s.get(Dispute, dispute.id)
    act(s, SYSTEM, dispute, "start")
    act(s, SYSTEM, dispute, "extend", "双方当事人同意继续调解")  # a new month: announced again when it ends
    s.commit()
    assert tasks.scan(factory, due + timedelta(hours=3)) == {"yellow": 0, "red": 0}
    assert tasks.scan(factory, due + MONTH + timedelta(hours=1)) == {"yellow": 0, "red": 1}
