"""The demo city's disputes: the community committee (the demo's 人民调解委员会 department) with the demo
mediator's account among its mediators, and disputes in mixed states walked through the engine."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.demo.build import build
from shiyu.demo.geography import SMALL_SIZE
from shiyu.disputes import indicators, service
from shiyu.disputes.models import Dispute, DisputeEvent, MediationOrg, Mediator, Referral
from shiyu.org.identity.models import User
from shiyu.org.units.models import Department


def test_the_demo_city_has_mediators_and_disputes_in_mixed_states(factory: Any) -> None:
    build(factory, seed=2026, size=SMALL_SIZE)
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        org = s.scalar(select(MediationOrg).where(MediationOrg.kind == "village"))
        committee = s.get(Department, org.department_id)
        assert committee is not None and org.name == committee.name and org.name.endswith("人民调解委员会")
        linked = s.scalar(select(User.username).join(Mediator, Mediator.user_id == User.id))
        assert linked == "demo_mediator"
        states = Counter(s.scalars(select(Dispute.state)))
        assert {"closed", "performing", "mediating", "assigned", "referred", "registered"} <= set(states)
        assert s.scalar(select(Referral.status)) == "open"
        closed = s.scalar(select(Dispute).where(Dispute.state == "closed"))
        assert [e.action for e in s.scalars(select(DisputeEvent).where(DisputeEvent.dispute_id == closed.id)
                                           .order_by(DisputeEvent.seq))] == [
            "register", "assign", "start", "agree", "perform", "follow_up", "close"]
        assert service.confirmation(s, closed.id) is not None
        figures = indicators.compute(s)
        assert figures["resolved"] == 2 and figures["success_rate"] == round(2 / 3, 4)
