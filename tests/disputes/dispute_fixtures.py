"""Disputes test helpers: a mediation organisation with mediators in community A, a legal adviser, a dispute
with two parties at a point, and the rows of community B that tests/test_scope_matrix.py looks for."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.disputes import service, workflow
from shiyu.disputes.models import Dispute, Document, LegalQuestion, OrgKind
from tests.factories import World, add_user

POINT_A1 = (117.95, 24.6)
POINT_B1 = (118.10, 24.6)
SYSTEM = Principal.system("test")
APPLICANT, RESPONDENT = "陈建平", "刘秀英"


def pool(s: Session, w: World, key: str = "a") -> dict[str, int]:
    """An organisation of community ``key`` with a mediator linked to a new user ``mediator_<key>`` (role
    mediator over the community) and one without an account; a legal adviser ``adviser_<key>``."""
    community = w.community_a if key == "a" else w.community_b
    s.info["principal"] = SYSTEM
    user = add_user(s, f"mediator_{key}", community, [("mediator", community)])
    adviser = add_user(s, f"adviser_{key}", community, [("legal_adviser", community)])
    w.users[user.username], w.users[adviser.username] = user, adviser
    org = service.create_org(s, SYSTEM, area_id=community.id, kind=OrgKind.VILLAGE,
                             name=f"{community.name}人民调解委员会")
    lead = service.create_mediator(s, SYSTEM, org_id=org.id, name="王建国", user_id=user.id,
                                   specialties=("neighbour",))
    other = service.create_mediator(s, SYSTEM, org_id=org.id, name="李淑芬", expert=True)
    s.flush()
    return {"org": org.id, "mediator": lead.id, "other_mediator": other.id, "mediator_user": user.id,
            "adviser_user": adviser.id}


def dispute_in(point: tuple[float, float] = POINT_A1, **kw: Any) -> service.DisputeIn:
    values: dict[str, Any] = {
        "title": "楼上漏水致楼下天花板受损", "type_code": "neighbour", "lon": point[0], "lat": point[1],
        "description": "楼下住户反映楼上卫生间漏水，电话13812345678", "address": "幸福小区3栋",
        "parties": (service.PartyIn(role="applicant", name=APPLICANT, id_number="350203198001010011",
                                    phone="13812345678"),
                    service.PartyIn(role="respondent", name=RESPONDENT, phone="13900001111")),
        **kw}
    return service.DisputeIn(**values)


def make_dispute(s: Session, point: tuple[float, float] = POINT_A1, state: str | None = None,
                 mediator_id: int | None = None, **kw: Any) -> Dispute:
    """A dispute registered by the system, optionally put straight into ``state`` (for the table's walk)."""
    s.info["principal"] = SYSTEM
    dispute = service.register(s, SYSTEM, dispute_in(point, **kw))
    if mediator_id is not None:
        dispute.mediator_id = mediator_id
    if state is not None:
        dispute.state = state
    s.flush()
    return dispute


def act(s: Session, principal: Principal, dispute: Dispute, action: str, note: str = "", **fields: Any) -> Dispute:
    s.info["principal"] = principal
    return workflow.apply(s, principal, dispute.id, action, workflow.ActionInput(dispute.version, note, fields))


def scope_matrix_extra(s: Session, w: World) -> dict[str, Any]:
    """A failed-then-referred dispute of community B with a party, a question and an uploaded proof row."""
    ids = pool(s, w, "b")
    dispute = make_dispute(s, POINT_B1, mediator_id=ids["mediator"], state="failed")
    act(s, SYSTEM, dispute, "refer", "引导起诉", channel="court", counterpart="乙社区所在区法院")
    s.info["principal"] = SYSTEM
    party = service.parties(s, dispute.id)[0]
    question = LegalQuestion(dispute_id=dispute.id, question="乙社区的问题", asked_at=utcnow(),
                             area_path=dispute.area_path)
    proof = Document(dispute_id=dispute.id, kind="performance", file_name="b.jpg", content_type="image/jpeg",
                     size=10, storage_key="disputes/test/b.jpg", area_path=dispute.area_path)
    s.add_all([question, proof])
    s.flush()
    referral = service.referrals(s, dispute_id=dispute.id)[0][0]
    s.commit()
    return {"dispute_b": dispute.id, "dispute_b_version": dispute.version, "party_b": party.id,
            "question_b": question.id, "proof_b": proof.id, "referral_b": referral.id, "org_b": ids["org"],
            "mediator_b": ids["mediator"]}


def hostile_dispute(s: Session, w: World, name: str, text: str) -> int:
    """An agreed dispute of grid a1 whose every stored text (title, description, parties, mediator, session,
    agreement) is ``name`` or ``text``, for the XSS test's pages; the mediator is mediator_a."""
    ids = pool(s, w)
    dispute = make_dispute(s, title=text[:100], description=text, address=text[:200],
                           parties=(service.PartyIn(role="applicant", name=name, phone="13812345678"),
                                    service.PartyIn(role="respondent", name=text[:100])))
    for action, fields in (("assign", {"mediator_id": ids["mediator"]}), ("start", {})):
        act(s, SYSTEM, dispute, action, **fields)
    service.add_session(s, SYSTEM, dispute.id, starts_at=utcnow(), place=text[:200], video_link="",
                        attendees=text, record=text)
    act(s, SYSTEM, dispute, "agree", text, terms=text)
    service.ask(s, SYSTEM, dispute.id, text)
    s.info["principal"] = SYSTEM
    return dispute.id


def hostile_pool(s: Session, name: str, text: str) -> dict[str, int]:
    """Community A's organisation (``hostile_dispute`` adds it) with ``text`` as its phone and address, and its
    mediator 李淑芬 renamed ``name`` with ``text`` as introduction: every text the pool's pages show."""
    s.info["principal"] = SYSTEM
    org = service.orgs(s)[0]
    other = next(m for m in service.mediators(s, org.id) if m.name == "李淑芬")
    service.update_org(s, SYSTEM, org.id, {"phone": text[:30], "address": text[:200]})
    service.update_mediator(s, SYSTEM, other.id, {"name": name[:40], "intro": text[:300]})
    return {"org": org.id, "mediator": other.id}
