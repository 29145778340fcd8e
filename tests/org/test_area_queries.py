"""The area queries behind the administration pages: tree, picker search, proposals and counts, in scope."""

from datetime import timedelta

import pytest

from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service
from shiyu.org.areas.models import AreaBoundary, BoundaryStatus
from shiyu.org.identity.service import principal_for
from tests.factories import add_user, make_people, make_world


@pytest.fixture
def world(system_session):
    w = make_world(system_session)
    make_people(system_session, w)
    w.users["two_grids"] = add_user(system_session, "two_grids", w.grids["b1"],
                                    [("grid_worker", w.grids["b2"]), ("grid_worker", w.grids["a1"])])
    system_session.commit()
    return w


def as_user(session, user):
    session.info["principal"] = principal_for(user)
    return session.info["principal"]


def codes(areas):
    return [a.code for a in areas]


def test_roots_are_the_areas_of_the_callers_grants(system_session, world):
    assert codes(service.roots(system_session, system_session.info["principal"])) == [world.city.code]
    principal = as_user(system_session, world.users["leader_a"])
    assert codes(service.roots(system_session, principal)) == [world.community_a.code]
    principal = as_user(system_session, world.users["two_grids"])
    assert codes(service.roots(system_session, principal)) == [world.grids["a1"].code, world.grids["b2"].code]


def test_children_say_which_have_children_of_their_own(system_session, world):
    flags = service.children_with_flags(system_session, world.street.id)
    assert [(a.code, has) for a, has in flags] == [(world.community_a.code, True), (world.community_b.code, True)]
    flags = service.children_with_flags(system_session, world.community_a.id)
    assert [(a.code, has) for a, has in flags] == [(world.grids["a1"].code, False), (world.grids["a2"].code, False)]


def test_search_areas_by_name_or_code_prefix_within_level_and_scope(system_session, world):
    a, a1, a2 = world.community_a, world.grids["a1"], world.grids["a2"]
    assert codes(service.search_areas(system_session, " 甲 ", 4)) == [a.code, a1.code, a2.code]
    assert codes(service.search_areas(system_session, "甲", 3)) == [a.code]
    assert codes(service.search_areas(system_session, a.code, 4)) == [a.code, a1.code, a2.code]
    assert service.search_areas(system_session, a2.code[-6:], 4) == []  # inside the code, not its start
    assert service.search_areas(system_session, "%", 4) == []
    assert codes(service.search_areas(system_session, "", 4, limit=2)) == [world.city.code, world.district.code]
    as_user(system_session, world.users["leader_a"])
    assert service.search_areas(system_session, "乙", 4) == []


def _proposal(session, area, status, age_minutes, version=2):
    boundary = AreaBoundary(area_id=area.id, version=version, geometry=area.geometry, area_path=area.area_path,
                            status=status, proposed_at=utcnow() - timedelta(minutes=age_minutes))
    session.add(boundary)
    session.flush()
    return boundary


def test_proposals_by_status_newest_first_and_open_ones_by_area(system_session, world):
    a1, b1 = world.grids["a1"], world.grids["b1"]
    old = _proposal(system_session, a1, BoundaryStatus.PROPOSED, 60)
    new = _proposal(system_session, b1, BoundaryStatus.PROPOSED, 5)
    rejected = _proposal(system_session, b1, BoundaryStatus.REJECTED, 30, version=3)
    system_session.commit()
    listed = service.list_proposals(system_session, BoundaryStatus.PROPOSED)
    assert [(b.id, area.code) for b, area in listed] == [(new.id, b1.code), (old.id, a1.code)]
    assert [b.id for b, _ in service.list_proposals(system_session, BoundaryStatus.PROPOSED, limit=1)] == [new.id]
    assert [b.id for b, _ in service.list_proposals(system_session, BoundaryStatus.REJECTED)] == [rejected.id]
    assert [b.id for b in service.open_proposals(system_session, [b1.id, world.grids["b2"].id])] == [new.id]
    assert service.count_open_proposals(system_session) == 2
    as_user(system_session, world.users["leader_a"])
    assert [b.id for b, _ in service.list_proposals(system_session, BoundaryStatus.PROPOSED)] == [old.id]
    assert service.count_open_proposals(system_session) == 1


def test_count_grids_in_scope(system_session, world):
    assert service.count_grids(system_session) == 4
    as_user(system_session, world.users["leader_a"])
    assert service.count_grids(system_session) == 2
