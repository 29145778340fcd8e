"""Citizen portal through TestClient, without logging in: report → tracking code and evaluation token →
public tracking (no personal data) → evaluation with the token; errors next to the fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shiyu.cases.models import Attachment, Case
from tests.cases.case_fixtures import POINT_A1, act, case_world, evidence, jpeg_bytes
from tests.factories import World


@pytest.fixture
def world(system_session) -> World:
    return case_world(system_session)


def form(client) -> dict[str, str]:
    page = client.get("/portal")
    assert page.status_code == 200, page.text[:500]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    client.headers["X-CSRF-Token"] = client.cookies.get("shiyu_csrf")  # as htmx sends it, before the body
    return {"csrf_token": client.cookies.get("shiyu_csrf"), "idempotency_key": key}


def test_report_page_renders_for_anyone(client, world):
    r = client.get("/portal")
    assert r.status_code == 200
    assert "占道经营" in r.text and 'id="pin-map"' in r.text and "使用我的位置" in r.text
    assert 'data-bounds="[117.9' in r.text  # the city's extent, for the pin map
    assert 'name="photos" type="file" accept="image/*"' in r.text
    assert "Report a problem" in client.get("/portal?lang=en").text


def test_report_track_evaluate(client, world, system_session):
    data = form(client) | {"category_id": str(world.extra["category"].id), "lon": str(POINT_A1["lon"]),
                           "lat": str(POINT_A1["lat"]), "description": "路灯不亮已经三天", "name": "赵六",
                           "phone": "13811112222"}
    r = client.post("/portal/report", data=data)
    assert r.status_code == 200, r.text[:800]
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    token = re.search(r'id="evaluation-token" data-code="\w+">(\w+)<', r.text).group(1)
    again = client.post("/portal/report", data=data)  # a retried submission finds the same case
    assert code in again.text

    case = system_session.query(Case).filter_by(tracking_code=code).one()
    assert case.channel == "citizen" and case.reporter_phone == "13811112222" and not case.anonymous

    track = client.get(f"/portal/track?code={code.lower()}")
    assert track.status_code == 200 and 'data-state="reported"' in track.text
    assert "赵六" not in track.text and "13811112222" not in track.text and "路灯不亮" not in track.text
    assert 'id="evaluate"' not in track.text and "问题办结后" in track.text

    for who, action, fields in (("operator_a", "register", {}),
                                ("operator_a", "dispatch", {"department_id": world.departments["a"].id})):
        case = act(system_session, world, who, case, action, fields=fields)
    for action in ("accept", "report_result", "verify_pass", "close"):
        proof = [evidence(system_session, "test")] if action == "report_result" else None
        case = act(system_session, world, "system", case, action, attachment_ids=proof)
    track = client.get(f"/portal/track?code={code}")
    assert 'data-state="closed"' in track.text and 'id="evaluate"' in track.text

    csrf = client.cookies.get("shiyu_csrf")
    wrong = client.post(f"/portal/track/{code}/evaluate", data={"rating": "satisfied", "token": "0" * 32,
                                                                "csrf_token": csrf})
    assert wrong.status_code == 403 and 'id="err-token"' in wrong.text and "评价凭证不正确" in wrong.text
    none = client.post(f"/portal/track/{code}/evaluate", data={"token": token, "csrf_token": csrf})
    assert none.status_code == 422 and 'id="err-rating"' in none.text
    ok = client.post(f"/portal/track/{code}/evaluate", data={"rating": "basically", "token": token, "note": "还行",
                                                             "csrf_token": csrf})
    assert ok.status_code == 200 and "感谢您的评价" in ok.text and 'id="track-rating">基本满意' in ok.text
    assert 'id="evaluate"' not in ok.text


def test_anonymous_report_keeps_no_contact(client, world, system_session):
    data = form(client) | {"category_id": str(world.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "井盖缺失", "anonymous": "on", "name": "赵六", "phone": "13811112222"}
    r = client.post("/portal/report", data=data)
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    case = system_session.query(Case).filter_by(tracking_code=code).one()
    assert case.anonymous and case.reporter_name is None and case.reporter_phone is None


def test_errors_next_to_fields(client, world):
    base = form(client) | {"category_id": str(world.extra["category"].id), "description": "有问题"}
    r = client.post("/portal/report", data=base | {"lon": "120.0", "lat": "30.0"})
    assert r.status_code == 422 and 'id="err-location"' in r.text and "不在本市任何网格内" in r.text
    r = client.post("/portal/report", data=base | {"lon": "117.95", "lat": "24.6", "phone": "12"})
    assert r.status_code == 422 and 'id="err-phone"' in r.text
    r = client.post("/portal/report", data=base | {"lon": "", "lat": "", "description": "x"})
    assert r.status_code == 422 and 'id="err-location"' in r.text and 'id="err-description"' in r.text
    assert ">x</textarea>" in r.text  # what was typed stays


def test_unknown_code_and_csrf(client, world):
    r = client.get("/portal/track?code=NOPE123456")
    assert r.status_code == 404 and "没有找到这个查询码" in r.text
    client.get("/portal")
    r = client.post("/portal/report", data={"description": "x"})
    assert r.status_code == 403


def test_photos_arrive_with_the_report_and_only_once(client, world, system_session):
    data = form(client) | {"category_id": str(world.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面塌陷", "anonymous": "on"}
    photos = [("photos", ("a.jpg", jpeg_bytes((800, 600)), "image/jpeg")),
              ("photos", ("b.jpg", jpeg_bytes((640, 480)), "image/jpeg"))]
    r = client.post("/portal/report", data=data, files=photos)
    assert r.status_code == 200, r.text[:800]
    code = re.search(r'id="tracking-code">(\w+)<', r.text).group(1)
    again = client.post("/portal/report", data=data, files=photos)  # a retry stores nothing twice
    assert code in again.text
    case = system_session.query(Case).filter_by(tracking_code=code).one()
    stored = system_session.query(Attachment).filter_by(case_id=case.id).all()
    assert sorted(a.filename for a in stored) == ["a.jpg", "b.jpg"] and all(a.thumbnail_key for a in stored)
    assert system_session.query(Attachment).count() == 2


def test_photos_are_checked_and_a_refused_report_keeps_none(client, world, system_session, settings):
    base = form(client) | {"category_id": str(world.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面塌陷", "anonymous": "on"}
    lying = [("photos", ("x.jpg", b"%PDF-1.4 not a photo at all" * 10, "image/jpeg"))]
    r = client.post("/portal/report", data=base, files=lying)
    assert r.status_code == 422 and 'id="err-photos"' in r.text
    many = [("photos", (f"{n}.jpg", jpeg_bytes((64, 64)), "image/jpeg")) for n in range(4)]
    r = client.post("/portal/report", data=base, files=many)
    assert r.status_code == 422 and "最多上传 3 张照片" in r.text
    outside = [("photos", ("a.jpg", jpeg_bytes((64, 64)), "image/jpeg"))]
    r = client.post("/portal/report", data=base | {"lon": "120.0", "lat": "30.0"}, files=outside)
    assert r.status_code == 422
    assert system_session.query(Attachment).count() == 0 and system_session.query(Case).count() == 0
    left = [p for p in Path(settings.storage_dir).rglob("*") if p.is_file()]
    assert left == []  # neither the photos nor their thumbnails stay on disk


def test_a_place_found_by_name_gives_a_point_inside_it(client, world):
    """The keyboard way to set the location: places by name, district first, with a point inside the area."""
    from shapely.geometry import Point, shape

    page = client.get("/portal/places", params={"place": "甲社区第一"})
    assert page.status_code == 200
    buttons = re.findall(r'data-lon="([\d.]+)" data-lat="([\d.]+)" data-label="([^"]+)"', page.text)
    assert [b[2] for b in buttons] == ["东区 · 东街道 · 甲社区 · 甲社区第一网格"]
    lon, lat = float(buttons[0][0]), float(buttons[0][1])
    assert shape(world.grids["a1"].geometry).contains(Point(lon, lat))
    assert "places-answer" in client.get("/portal/places", params={"place": "没有这个地方"}).text
    assert 'class="place' not in client.get("/portal/places", params={"place": " "}).text
    assert client.get("/portal/places", params={"place": "x" * 51}).status_code == 422
