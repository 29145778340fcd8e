from datetime import timedelta

import pytest
from sqlalchemy import select

from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import lookup, service
from shiyu.org.areas.models import Area, AreaBoundary
from shiyu.org.areas.rules import AreaRuleError
from shiyu.org.identity.service import principal_for
from tests.factories import add_user, box, make_people, make_world

# a1 is box(117.9, 24.55, 118.05, 24.7); moving its south edge down eats into a2 unless a2 gives way.
A1_SMALLER = box(117.9, 24.6, 118.05, 24.7)
A2_BIGGER = box(117.9, 24.4, 118.05, 24.6)


@pytest.fixture
def world(system_session):
    w = make_world(system_session)
    make_people(system_session, w)
    w.users["leader_a2"] = add_user(system_session, "leader_a2", w.community_a, [("centre_leader", w.community_a)])
    system_session.commit()
    return w


def as_user(session, user):
    session.info["principal"] = principal_for(user)
    return session.info["principal"]


def test_propose_approve_with_versions_and_boundary_at(system_session, world):
    a1 = world.grids["a1"]
    before = utcnow()
    proposer = as_user(system_session, world.users["leader_a"])
    proposal = service.propose_boundary(system_session, proposer, a1.id, A1_SMALLER, "让出南侧")
    system_session.commit()
    assert (proposal.version, proposal.status) == (2, "proposed")
    assert system_session.get(Area, a1.id).geometry == box(117.9, 24.55, 118.05, 24.7)

    approver = as_user(system_session, world.users["leader_a2"])
    with pytest.raises(Conflict):
        service.propose_boundary(system_session, approver, a1.id, A1_SMALLER)
    done = service.approve(system_session, approver, proposal.id, "同意")
    system_session.commit()
    assert done.status == "approved" and done.decided_by_id == world.users["leader_a2"].id
    assert "[approved] 同意" in done.note and done.note.startswith("让出南侧")
    versions = service.list_boundaries(system_session, a1.id)
    assert [(b.version, b.status) for b in versions] == [(1, "superseded"), (2, "approved")]
    assert versions[0].effective_to == versions[1].effective_from
    assert system_session.get(Area, a1.id).geometry == A1_SMALLER

    assert service.boundary_at(system_session, a1.id, before).version == 1
    assert service.boundary_at(system_session, a1.id, utcnow()).version == 2
    assert service.boundary_at(system_session, a1.id, a1.created_at - timedelta(days=1)) is None


def test_approval_moves_the_lookup(system_session, world):
    cache = lookup.index_cache(recheck_seconds=0)
    admin = world.users["admin"]
    principal = as_user(system_session, admin)
    assert service.locate(system_session, principal, 117.95, 24.57, cache).ref.code == world.grids["a1"].code
    p2 = service.propose_boundary(system_session, as_user(system_session, world.users["leader_a"]),
                                  world.grids["a1"].id, A1_SMALLER)
    service.approve(system_session, as_user(system_session, world.users["leader_a2"]), p2.id)
    system_session.commit()
    principal = as_user(system_session, admin)
    with pytest.raises(service.OutsideCity):  # nobody covers the strip until a2 grows
        service.locate(system_session, principal, 117.95, 24.57, cache)


def test_only_someone_else_with_approve_rights_decides(system_session, world):
    leader_a = as_user(system_session, world.users["leader_a"])
    proposal = service.propose_boundary(system_session, leader_a, world.grids["a1"].id, A1_SMALLER)
    system_session.commit()
    with pytest.raises(Forbidden) as own:
        service.approve(system_session, leader_a, proposal.id)
    assert own.value.code == "self_approval"
    operator = as_user(system_session, world.users["operator_a"])
    with pytest.raises(Forbidden):
        service.approve(system_session, operator, proposal.id)
    with pytest.raises(Forbidden):
        service.propose_boundary(system_session, operator, world.grids["a2"].id, A2_BIGGER)
    leader_b = as_user(system_session, world.users["leader_b"])
    with pytest.raises(NotFound):
        service.approve(system_session, leader_b, proposal.id)
    with pytest.raises(NotFound):
        service.propose_boundary(system_session, leader_b, world.grids["a1"].id, A1_SMALLER)


def test_reject_needs_a_note_and_closes_the_proposal(system_session, world):
    proposal = service.propose_boundary(system_session, as_user(system_session, world.users["leader_a"]),
                                        world.grids["a1"].id, A1_SMALLER)
    approver = as_user(system_session, world.users["leader_a2"])
    with pytest.raises(ValidationFailed):
        service.reject(system_session, approver, proposal.id, " ")
    rejected = service.reject(system_session, approver, proposal.id, "南侧是学校")
    system_session.commit()
    assert rejected.status == "rejected" and rejected.effective_from is None
    with pytest.raises(Conflict) as again:
        service.approve(system_session, approver, proposal.id)
    assert again.value.code == "proposal_decided"
    assert system_session.get(Area, world.grids["a1"].id).geometry == box(117.9, 24.55, 118.05, 24.7)
    assert service.boundary_at(system_session, world.grids["a1"].id, utcnow()).version == 1


def test_rules_are_checked_at_proposal_and_again_at_approval(system_session, world):
    leader_a = as_user(system_session, world.users["leader_a"])
    with pytest.raises(AreaRuleError) as overlap:
        service.propose_boundary(system_session, leader_a, world.grids["a2"].id, box(117.9, 24.4, 118.05, 24.6))
    assert overlap.value.code == "sibling_overlap" and overlap.value.status == 422
    with pytest.raises(AreaRuleError) as outside:
        service.propose_boundary(system_session, leader_a, world.grids["a1"].id, box(117.9, 24.55, 118.1, 24.7))
    assert outside.value.code == "outside_parent"  # into community B's grid: outside community A
    with pytest.raises(AreaRuleError) as community:
        service.propose_boundary(system_session, leader_a, world.community_a.id, box(117.9, 24.4, 118.1, 24.7))
    assert [(i["code"], i["detail"]["other"]) for i in community.value.detail["issues"]] == [
        ("sibling_overlap", "***")]  # community B is outside leader_a's grants: not named
    with pytest.raises(AreaRuleError) as shrink:
        service.propose_boundary(system_session, leader_a, world.community_a.id, box(117.9, 24.5, 118.05, 24.7))
    assert {i["code"] for i in shrink.value.detail["issues"]} == {"child_outside"}
    system_session.rollback()

    # a2 grows north after a1 shrank: fine. Then a1 proposes to grow back; meanwhile nothing changes,
    # but a second a2 proposal approved first makes a1's proposal overlap at approval time.
    approver = world.users["leader_a2"]
    p1 = service.propose_boundary(system_session, as_user(system_session, world.users["leader_a"]),
                                  world.grids["a1"].id, A1_SMALLER)
    service.approve(system_session, as_user(system_session, approver), p1.id)
    back = service.propose_boundary(system_session, as_user(system_session, world.users["leader_a"]),
                                    world.grids["a1"].id, box(117.9, 24.55, 118.05, 24.7))
    p2 = service.propose_boundary(system_session, as_user(system_session, world.users["leader_a"]),
                                  world.grids["a2"].id, A2_BIGGER)
    service.approve(system_session, as_user(system_session, approver), p2.id)
    with pytest.raises(AreaRuleError) as late:
        service.approve(system_session, as_user(system_session, approver), back.id)
    assert late.value.code == "sibling_overlap"
    assert system_session.scalar(select(AreaBoundary.status).where(AreaBoundary.id == back.id)) == "proposed"


def test_invalid_geometry_is_refused(system_session, world):
    leader_a = as_user(system_session, world.users["leader_a"])
    with pytest.raises(AreaRuleError) as bad:
        service.propose_boundary(system_session, leader_a, world.grids["a1"].id,
                                 {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    assert bad.value.code == "invalid_geometry"
