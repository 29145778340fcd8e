"""L1: the password a person sets has at least 10 characters, some variety, does not contain the username
and is not one of the most common passwords; the refusal says which rule failed, in Chinese and English."""

from __future__ import annotations

import pytest

from shiyu.core.errors import ValidationFailed
from shiyu.org.identity import passwords
from tests.factories import login, populated
from tests.security.test_revocation import page_login


@pytest.mark.parametrize(("password", "rule"), [
    ("password1", "length"),
    ("aaaaaaa1", "length"),
    ("        a1", "variety"),
    ("1212121212", "variety"),
    ("qwertyuiop", "common"),
    ("woaini1314", "common"),
    ("Password2026!", "common"),  # a common password with digits and symbols after it
    ("iloveyou12345", "common"),
    ("x-Leader_A-2026", "username"),
])
def test_weak_passwords_and_the_rule_they_break(password, rule):
    with pytest.raises(ValidationFailed) as caught:
        passwords.check_strength(password, "leader_a")
    assert caught.value.code == "weak_password" and caught.value.detail == {"field": "password", "rule": rule}
    assert caught.value.zh == passwords.RULES[rule][0] and caught.value.en == passwords.RULES[rule][1]


@pytest.mark.parametrize("password", ["Harbour-lights-42", "correct horse battery", "山海关2026长城好"])
def test_good_passwords_pass(password):
    passwords.check_strength(password, "leader_a")


def test_the_common_list_ships_with_the_package():
    common = passwords.common_passwords()
    assert len(common) > 8000 and "1qaz2wsx3edc" in common and "demo@2026" not in common


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_api_says_which_rule_failed(client, system_session, lang):
    w = populated(system_session)
    h = {**login(client, "admin"), "Accept-Language": lang}
    r = client.post("/api/v1/users", json={"username": "newcomer", "password": "Sh0rt!pw9",
                                           "home_area_id": w.city.id}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "password"  # the schema's minimum
    r = client.post("/api/v1/users", json={"username": "newcomer", "password": "newcomer-2026",
                                           "home_area_id": w.city.id}, headers=h)
    assert r.status_code == 422 and r.json()["detail"] == {"field": "password", "rule": "username"}
    assert r.json()["message"] == passwords.RULES["username"][0 if lang == "zh" else 1]


def test_the_admin_page_shows_the_rule(client, system_session):
    w = populated(system_session)
    page_login(client, "admin")
    r = client.post("/admin/users/new", data={"username": "newcomer", "password": "qwertyuiop123",
                                              "home_area_id": str(w.city.id),
                                              "csrf_token": client.cookies.get("shiyu_csrf")})
    assert r.status_code == 422 and "这是最常见的密码之一" in r.text
