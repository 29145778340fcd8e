"""The citizen's side of the loop in plain words: tiles mapped to official classes (never 特急 by the
citizen's pick), the "已选定" line for a pin, inline Chinese messages, the tracking page that says who has the
case and by when and shows the reply and after-photos, 我的反映, and the short evaluation code."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shiyu.app import create_app
from shiyu.cases.categories.models import Category
from shiyu.cases.categories.seed import seed_categories
from shiyu.cases.intake import service as intake
from shiyu.cases.intake import tiles
from shiyu.cases.models import Case
from shiyu.core.scoping import Principal
from shiyu.triage.classification import suggest
from tests.cases.case_fixtures import POINT_A1, act, case_world, evidence
from tests.factories import World
from tests.security.test_revocation import page_login
from tests.web.test_portal import form


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    seed_categories(system_session)
    system_session.commit()
    return w


def _code(system_session, code: str) -> str:
    return system_session.scalar(select(Category.code).join(Case, Case.category_id == Category.id)
                                 .where(Case.tracking_code == code))


def _report(client, **fields: str):
    data = form(client) | {"lon": str(POINT_A1["lon"]), "lat": str(POINT_A1["lat"]), "description": "路面有个大坑"}
    return client.post("/portal/report", data=data | fields)


def test_every_tile_maps_to_seeded_official_classes(system_session, world):
    for tile in tiles.TILES:
        assert tiles.categories(system_session, tile), tile.key
    assert len(tiles.TILES) >= 12


def test_a_tile_files_the_tiles_first_class_without_a_model(client, world, system_session):
    r = _report(client, tile="road")
    assert r.status_code == 200, r.text[:800]
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    assert _code(system_session, code) == "C0209"  # 路面破损, not the 特急 路面塌陷
    short = re.search(r'id="evaluation-code" data-code="\w+">(\w+)<', r.text).group(1)
    assert short == intake.evaluation_code(code) and len(short) == 6


def test_triage_proposes_within_the_tile_and_never_makes_it_critical(client, world, system_session, monkeypatch):
    by_code = {c.code: c.id for c in system_session.scalars(select(Category))}
    # The model's best guess is outside the tile (a dispute), the next one inside it: 路面塌陷.
    monkeypatch.setattr(suggest, "propose", lambda db, text: [by_code["I0701"], by_code["I0401"]])
    r = _report(client, tile="road", description="路面塌陷了一大块")
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    case = system_session.scalar(select(Case).where(Case.tracking_code == code))
    assert _code(system_session, code) == "I0401" and case.urgency == "urgent"
    # "其他": any proposal is taken.
    r = _report(client, tile="unsure", description="邻居天天吵架")
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    assert _code(system_session, code) == "I0701"


def test_a_citizen_needs_not_fill_the_official_form_of_a_class(client, world, system_session):
    lamp = system_session.scalar(select(Category).where(Category.code == "C0108"))  # 问题情况 is required
    r = _report(client, category_id=str(lamp.id), description="路灯不亮")
    assert r.status_code == 200, r.text[:800]


def test_missing_fields_are_said_in_chinese_beside_them(client, world):
    r = client.post("/portal/report", data=form(client) | {"description": "", "phone": "abc"})
    assert r.status_code == 422
    assert 'novalidate' in r.text
    for field, message in (("tile", "请选择问题类型"), ("location", "请在地图上点选问题位置"),
                           ("description", "请描述一下问题"), ("phone", "电话号码格式不对")):
        assert re.search(rf'id="err-{field}">{message}', r.text), field


def test_a_pin_names_its_places(client, world):
    r = client.get(f"/portal/where?lon={POINT_A1['lon']}&lat={POINT_A1['lat']}")
    assert r.status_code == 200
    names = [world.district.name, world.street.name, world.community_a.name, world.grids["a1"].name]
    assert "已选定：" in r.text and " ".join(names) in r.text
    outside = client.get("/portal/where?lon=100&lat=10")
    assert outside.status_code == 200 and "不在本市" in outside.text
    assert client.get("/portal/where?lon=abc&lat=1").status_code == 422


def test_tracking_says_who_and_by_when_and_shows_the_reply(client, world, system_session, tmp_path):
    r = _report(client, tile="road")
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    case = system_session.scalar(select(Case).where(Case.tracking_code == code))
    centre = world.extra["centres"][case.centre_area_id].name
    spaced = f"{code[:4]}-{code[4:8]} {code[8:].lower()}"  # as read aloud or copied from the receipt
    page = client.get("/portal/track", params={"code": spaced})
    assert page.status_code == 200 and f"已交由{centre}办理" in page.text and "前完成这一步" in page.text

    case = act(system_session, world, "operator_a", case, "register")
    case = act(system_session, world, "operator_a", case, "escalate", note="超出本级能力")
    page = client.get(f"/portal/track?code={code}")
    assert "转交上级中心处理" in page.text and "超出本级能力" not in page.text
    case = act(system_session, world, "operator_s", case, "dispatch",
               fields={"department_id": world.departments["s"].id})
    page = client.get(f"/portal/track?code={code}")
    assert f"已交由{world.departments['s'].name}办理" in page.text
    photo = evidence(system_session, "handler_s")
    case = act(system_session, world, "handler_s", case, "accept")
    case = act(system_session, world, "handler_s", case, "report_result", note="已修补坑洼，恢复通行",
               attachment_ids=[photo])
    assert 'id="result"' not in client.get(f"/portal/track?code={code}").text  # not before it is checked
    assert client.get(f"/portal/track/{code}/photos/{photo}.jpg").status_code == 404
    case = act(system_session, world, "system", case, "verify_pass", attachment_ids=[evidence(system_session, "test")])
    case = act(system_session, world, "system", case, "close")
    page = client.get(f"/portal/track?code={code}")
    assert 'id="result"' in page.text and "已修补坑洼，恢复通行" in page.text
    assert f'/portal/track/{code}/photos/{photo}.jpg' in page.text and "已办结" in page.text
    assert client.get(f"/portal/track/{code}/photos/{photo + 1000}.jpg").status_code == 404


def test_the_short_code_evaluates_without_log_in(client, world, system_session):
    r = _report(client, tile="lamp", description="路灯不亮")
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    case = system_session.scalar(select(Case).where(Case.tracking_code == code))
    for who, action, fields in (("operator_a", "register", {}),
                                ("operator_a", "dispatch", {"department_id": world.departments["a"].id})):
        case = act(system_session, world, who, case, action, fields=fields)
    for action in ("accept", "report_result", "verify_pass", "close"):  # 路灯: 核查 needs an on-site photo
        proof = [evidence(system_session, "test")] if action in ("report_result", "verify_pass") else None
        case = act(system_session, world, "system", case, action, attachment_ids=proof)
    short = intake.evaluation_code(code)
    assert short not in client.get(f"/portal/track?code={code}").text  # only the receipt shows it
    csrf = client.cookies.get("shiyu_csrf")
    wrong = client.post(f"/portal/track/{code}/evaluate", data={"rating": "satisfied", "token": "AAAAAA",
                                                                "csrf_token": csrf})
    assert wrong.status_code == 403 and 'id="err-token"' in wrong.text
    ok = client.post(f"/portal/track/{code}/evaluate", data={"rating": "satisfied",
                                                             "token": f" {short[:3].lower()}-{short[3:]} ",
                                                             "csrf_token": csrf})
    assert ok.status_code == 200 and "感谢您的评价" in ok.text


def test_guessing_evaluation_codes_is_throttled(settings, world):
    app = create_app(settings.model_copy(update={"evaluations_per_address": 3}))
    with TestClient(app, client=("127.0.0.7", 5000)) as one, TestClient(app, client=("127.0.0.8", 5000)) as other:
        one.get("/portal")
        csrf = one.cookies.get("shiyu_csrf")
        answers = [one.post("/portal/track/2612AAAAAAAAAA/evaluate",
                            data={"rating": "satisfied", "token": f"AAAAA{i}", "csrf_token": csrf}) for i in range(4)]
        api = one.post("/api/v1/track/2612AAAAAAAAAA/evaluate", json={"rating": "satisfied", "token": "AAAAAA"})
        elsewhere = other.post("/api/v1/track/2612AAAAAAAAAA/evaluate", json={"rating": "satisfied", "token": "A"})
    app.state.engine.dispose()
    assert [a.status_code for a in answers[:3]] == [404, 404, 404]
    assert answers[3].status_code == 429 and answers[3].headers["retry-after"]
    assert api.status_code == 429 and elsewhere.status_code == 404


def test_my_reports_lists_a_logged_in_citizens_own(client, world, system_session):
    page_login(client, "citizen")
    assert "您还没有反映过问题" in client.get("/portal/mine").text
    r = _report(client, tile="parking", description="小区门口有车乱停")
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    mine = client.get("/portal/mine")
    assert mine.status_code == 200 and code in mine.text and "已交由" in mine.text
    client.cookies.clear()
    assert client.get("/portal/mine", follow_redirects=False).status_code == 303


def test_a_tile_whose_classes_are_gone_is_not_offered(client, world, system_session):
    system_session.info["principal"] = Principal.system("test")
    for category in system_session.scalars(select(Category).where(Category.code.in_(("I0701", "I0704")))):
        category.active = False
    system_session.commit()
    page = client.get("/portal").text
    assert 'value="neighbours"' not in page and 'value="road"' in page
    r = _report(client, tile="neighbours", description="邻居吵架")
    assert r.status_code == 422 and re.search(r'id="err-tile">这类问题暂时不能在线反映', r.text)


def test_without_any_tile_the_official_list_is_open(client, system_session):
    case_world(system_session)  # its one class (I9901) belongs to no tile
    page = client.get("/portal").text
    assert 'id="tiles"' not in page and '<details class="exact-category" open>' in page
