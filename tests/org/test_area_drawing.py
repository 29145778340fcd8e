"""Areas drawn on the map (issue 14): a street, community or grid that no public file has is drawn inside its
parent; it is created without a boundary and its outline is a proposal someone else approves. The next free
code is suggested; a wrong code, a taken code, an outline outside the parent, a missing name, a child of a grid
or a caller without ``area.edit`` are refused with what is wrong — and nothing is created."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shiyu.core.errors import Forbidden, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.areas import service
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.areas.rules import AreaRuleError
from shiyu.org.identity.service import principal_for
from tests.factories import add_area, add_user, box, make_people, make_world
from tests.web.test_pages import hx, log_in

C_CODE = "359901001003"
INSIDE_C = box(118.31, 24.46, 118.34, 24.49)


@pytest.fixture
def world(system_session):
    w = make_world(system_session)
    make_people(system_session, w)
    # A community with no grids yet, apart from the others' grids; its grids are to be drawn.
    w.extra["c"] = add_area(system_session, C_CODE, "丙社区", AreaLevel.COMMUNITY, w.street,
                            box(118.3, 24.45, 118.35, 24.5))
    w.users["admin2"] = add_user(system_session, "admin2", w.city, [("admin", w.city)])
    system_session.commit()
    return w


def as_user(session, user) -> Principal:
    session.info["principal"] = principal_for(user)
    return session.info["principal"]


def count_areas(session) -> int:
    return session.scalar(select(func.count(Area.id)).execution_options(unscoped=True))


def test_the_next_free_code_is_suggested_at_every_level(system_session, world):
    as_user(system_session, world.users["admin"])
    assert service.suggest_child_code(system_session, world.community_a) == "359901001001003"
    assert service.suggest_child_code(system_session, world.extra["c"]) == "359901001003001"
    assert service.suggest_child_code(system_session, world.street) == "359901001004"
    assert service.suggest_child_code(system_session, world.district) == "359901002000"
    assert service.suggest_child_code(system_session, world.grids["a1"]) is None


def test_a_drawn_grid_is_a_proposal_until_someone_else_approves_it(system_session, world):
    admin = as_user(system_session, world.users["admin"])
    proposal = service.propose_new_area(system_session, admin, world.extra["c"].id, "359901001003001", " 丙一网格 ",
                                        INSIDE_C, "按新建小区划分")
    system_session.commit()
    grid = system_session.get(Area, proposal.area_id)
    assert (grid.name, grid.level, grid.geometry, grid.area_path) == (
        "丙一网格", AreaLevel.GRID, None, f"{world.extra['c'].area_path}359901001003001/")
    assert (proposal.status, proposal.note) == ("proposed", "按新建小区划分")
    with pytest.raises(Forbidden):  # the one who drew it cannot approve it
        service.approve(system_session, admin, proposal.id)
    system_session.rollback()
    service.approve(system_session, as_user(system_session, world.users["admin2"]), proposal.id, "同意")
    system_session.commit()
    assert system_session.get(Area, grid.id).geometry is not None
    found = service.locate(system_session, Principal.system("test"), 118.325, 24.475)
    assert found.ref.code == "359901001003001"  # reports there now land in the drawn grid


@pytest.mark.parametrize(("code", "name", "geometry", "error", "code_or_field"), [
    ("359901001004001", "丙一网格", INSIDE_C, AreaRuleError, "code_prefix_mismatch"),
    ("35990100100300", "丙一网格", INSIDE_C, AreaRuleError, "invalid_code"),
    ("359901001003001", "丙一网格", box(117.9, 24.4, 118.2, 24.7), AreaRuleError, "outside_parent"),
    ("359901001003001", "  ", INSIDE_C, ValidationFailed, "name_required"),
    ("359901001003001", "丙一网格", {"type": "Point", "coordinates": [118.32, 24.47]}, AreaRuleError,
     "invalid_geometry"),
    ("359901001001001", "重复", INSIDE_C, AreaRuleError, "code_prefix_mismatch"),
])
def test_what_is_wrong_is_said_and_nothing_is_created(system_session, world, code, name, geometry, error,
                                                       code_or_field):
    admin = as_user(system_session, world.users["admin"])
    before = count_areas(system_session)
    with pytest.raises(error) as caught:
        service.propose_new_area(system_session, admin, world.extra["c"].id, code, name, geometry)
    system_session.rollback()
    assert count_areas(system_session) == before
    if error is AreaRuleError:
        assert code_or_field in {i["code"] for i in caught.value.detail["issues"]}
    else:
        assert caught.value.code == code_or_field


def test_a_taken_code_a_grid_parent_and_a_caller_without_area_edit_are_refused(system_session, world):
    admin = as_user(system_session, world.users["admin"])
    with pytest.raises(AreaRuleError) as taken:
        service.propose_new_area(system_session, admin, world.community_a.id, world.grids["a1"].code, "重复",
                                 INSIDE_C)
    assert [i["code"] for i in taken.value.detail["issues"]] == ["code_in_use"]
    system_session.rollback()
    with pytest.raises(ValidationFailed):
        service.propose_new_area(system_session, admin, world.grids["a1"].id, "359901001001001001", "x", INSIDE_C)
    system_session.rollback()
    leader = as_user(system_session, world.users["leader_a"])  # proposes and approves boundaries, creates nothing
    with pytest.raises(Forbidden):
        service.propose_new_area(system_session, leader, world.community_a.id, "359901001001003", "x", INSIDE_C)


def test_the_page_files_a_drawn_area_and_the_card_shows_before_and_after(client, system_session, world):
    headers = hx(log_in(client, "admin"))
    page = client.get("/admin/areas", params={"area": world.extra["c"].id})
    assert 'data-draw="child"' in page.text and 'value="359901001003001"' in page.text
    r = client.post(f"/admin/areas/{world.extra['c'].id}/draw",
                    data={"code": "359901001003001", "name": "丙一网格", "geometry": json.dumps(INSIDE_C)},
                    headers=headers)
    assert r.status_code == 200 and "已提交「丙一网格」的边界" in r.text
    bad = client.post(f"/admin/areas/{world.extra['c'].id}/draw",
                      data={"code": "359901001003002", "name": "丙二网格", "geometry": ""}, headers=headers)
    assert bad.status_code == 422 and "请先在地图上画出区域范围" in bad.text
    outside = client.post(f"/admin/areas/{world.extra['c'].id}/draw",
                          data={"code": "359901001003002", "name": "丙二网格",
                                "geometry": json.dumps(box(117.9, 24.4, 118.2, 24.7))},
                          headers=headers)
    assert outside.status_code == 422 and "丙二网格" in outside.text
    system_session.info["principal"] = Principal.system("test")
    grid = system_session.scalar(select(Area).where(Area.code == "359901001003001"))
    proposal = service.open_proposals(system_session, [grid.id])[0]
    shown = client.get(f"/admin/areas/proposals/{proposal.id}/map.json").json()
    # A new area: nothing in force before, the proposal inside its community's outline.
    assert [f["properties"]["role"] for f in shown["features"]] == ["context", "proposed"]
    cards = client.get("/admin/areas/proposals").text
    assert f"/admin/areas/proposals/{proposal.id}/map.json" in cards and "新画的区域，尚无现行边界" in cards
