"""Idempotency keys of anonymous reporters (security review 2026-12, S12): all anonymous submitters shared
one namespace, so a reused key answered one reporter with another's case — on the API the first report's
tracking code and evaluation token (or a 409 that says the key exists), on the portal the first report
even for other content, dropping the new one. A retry of the very same report still finds its case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shiyu.cases.models import Case
from tests.cases.case_fixtures import POINT_A1, case_world, jpeg_bytes
from tests.factories import World, login
from tests.web.test_pages import log_in
from tests.web.test_portal import form

KEY = "anon-key-00000001"


@pytest.fixture
def w(system_session) -> World:
    return case_world(system_session)


def _anonymous(w, description: str, **extra) -> dict:
    return {"idempotency_key": KEY, "channel": "citizen", "category_id": w.extra["category"].id,
            "description": description, "location": POINT_A1, "anonymous": True, **extra}


def _cases(s) -> int:
    s.expire_all()
    return s.scalar(select(func.count()).select_from(Case))


def test_api_anonymous_reporters_do_not_share_keys(client, system_session, w):
    first = client.post("/api/v1/cases", json=_anonymous(w, "路灯不亮已经三天"))
    assert first.status_code == 201, first.text
    other = client.post("/api/v1/cases", json=_anonymous(w, "完全不同的一件事：井盖缺失"))
    assert other.status_code == 201, other.text
    assert other.json()["tracking_code"] != first.json()["tracking_code"]
    assert other.json()["evaluation_token"] != first.json()["evaluation_token"]
    retry = client.post("/api/v1/cases", json=_anonymous(w, "路灯不亮已经三天"))  # the very same report
    assert retry.status_code == 200 and retry.json() == first.json() | {"created": False}
    assert _cases(system_session) == 2


def _portal(client, w, description: str, key: str, photo: bytes | None = None, **fields):
    data = form(client) | {"idempotency_key": key, "category_id": str(w.extra["category"].id), "lon": "117.95",
                           "lat": "24.6", "description": description} | fields
    files = [("photos", ("p.jpg", photo, "image/jpeg"))] if photo else None
    return client.post("/portal/report", data=data, files=files, headers={"X-CSRF-Token": data["csrf_token"]})


def _shown(page) -> tuple[str, str]:
    code = re.search(r'id="tracking-code">(\w+)<', page.text).group(1)
    token = re.search(r'id="evaluation-token" data-code="\w+">(\w+)<', page.text).group(1)
    return code, token


def test_portal_never_shows_another_visitors_case_for_a_reused_key(client, system_session, w):
    photo = jpeg_bytes()
    a = _portal(client, w, "甲：路灯不亮已经三天", KEY, photo, anonymous="on")
    assert a.status_code == 200, a.text[:500]
    code_a, token_a = _shown(a)
    client.cookies.clear()  # another browser, the same (chosen) key, another report
    b = _portal(client, w, "乙：完全不同的一件事", KEY, name="李四", phone="13900000000")
    assert b.status_code == 200, b.text[:500]
    code_b, token_b = _shown(b)
    assert code_a not in b.text and token_a not in b.text and code_b != code_a
    assert _cases(system_session) == 2
    again = _portal(client, w, "甲：路灯不亮已经三天", KEY, photo, anonymous="on")  # A's form sent again
    assert _shown(again) == (code_a, token_a) and _cases(system_session) == 2


def test_portal_same_key_other_content_from_one_user_is_a_clear_refusal(client, system_session, w):
    log_in(client, "citizen")
    first = _portal(client, w, "路灯不亮已经三天", KEY)
    code, _ = _shown(first)
    changed = _portal(client, w, "后来又想改一下描述", KEY)
    assert changed.status_code == 422 and code not in changed.text
    assert "该幂等键已用于内容不同的上报" in changed.text
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', changed.text).group(1)
    assert fresh != KEY  # sending the corrected form again files it
    assert _cases(system_session) == 1


def test_a_retry_naming_uploads_its_first_attempt_took_finds_its_case(client, system_session, w):
    """A phone whose answer was lost sends the report again with the same upload ids (or, when told they
    are gone, uploads the same photo again): the same report, answered with its case."""
    h = login(client, "worker_a1")
    photo = jpeg_bytes()
    upload = client.post("/api/v1/attachments", files={"file": ("p.jpg", photo, "image/jpeg")}, headers=h).json()
    body = {"idempotency_key": "field-case-0001", "channel": "grid", "category_id": w.extra["category"].id,
            "description": "井盖缺失", "location": POINT_A1, "attachment_ids": [upload["id"]]}
    first = client.post("/api/v1/cases", json=body, headers=h)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/cases", json=body, headers=h)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"], again.text
    same_photo = client.post("/api/v1/attachments", files={"file": ("p.jpg", photo, "image/jpeg")}, headers=h).json()
    reuploaded = client.post("/api/v1/cases", json=body | {"attachment_ids": [same_photo["id"]]}, headers=h)
    assert reuploaded.status_code == 200 and reuploaded.json()["id"] == first.json()["id"], reuploaded.text
    other = client.post("/api/v1/attachments", files={"file": ("q.jpg", jpeg_bytes((80, 60)), "image/jpeg")},
                        headers=h).json()
    changed = client.post("/api/v1/cases", json=body | {"attachment_ids": [other["id"]]}, headers=h)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
