"""Names for labelling the rows a caller sees: read past the caller's scope (only the name, only for ids or
codes the caller already holds), while counts stay within it."""

import pytest

from shiyu.org.areas import service as areas
from shiyu.org.identity import service as identity
from shiyu.org.units import service as units
from tests.factories import populated


@pytest.fixture
def world(system_session):
    w = populated(system_session)
    system_session.info["principal"] = identity.principal_for(w.users["leader_a"])
    return w


def test_names_outside_the_callers_scope(system_session, world):
    b, admin = world.community_b, world.users["admin"]
    assert {k: v.name for k, v in areas.areas_by_id(system_session, [b.id, None, b.id]).items()} == {b.id: b.name}
    assert areas.refs_by_code(system_session, [b.code])[b.code].name == b.name
    assert units.department_names(system_session, [world.departments["b"].id, None]) == {
        world.departments["b"].id: world.departments["b"].name}
    assert identity.usernames(system_session, [admin.id, None]) == {admin.id: "admin"}


def test_no_ids_no_names(system_session, world):
    assert areas.areas_by_id(system_session, [None]) == {}
    assert areas.refs_by_code(system_session, []) == {}
    assert units.department_names(system_session, []) == {}
    assert identity.usernames(system_session, [None]) == {}


def test_count_users_in_scope(system_session, world):
    assert identity.count_users(system_session) == 4  # leader_a, operator_a, worker_a1, handler_a
    system_session.info["principal"] = identity.principal_for(world.users["admin"])
    assert identity.count_users(system_session) == len(world.users)
