"""特急 on the desk and natural time in the category admin: the banner pinned above every queue, the queue
order, the live alarm's text, and the time basis chosen per limit on the admin page and through the API."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from shiyu.cases.categories.models import Category
from shiyu.core.live import Change
from shiyu.core.scoping import Principal
from shiyu.web.desk.urgent import alarm_text
from tests.cases.case_fixtures import LIMITS, SH, case_world, report
from tests.factories import World, login
from tests.web.test_pages import hx, log_in


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    w.extra["normal"] = report(system_session, w, now=datetime(2026, 9, 14, 9, 0, tzinfo=SH)).case.id
    w.extra["critical"] = report(system_session, w, urgency="critical").case.id
    system_session.commit()
    return w


def test_the_banner_pins_critical_cases_above_every_queue(client, world):
    log_in(client, "leader_a")
    page = client.get("/desk?queue=overdue")
    assert page.status_code == 200
    banner = page.text[page.text.index('id="critical-banner"'):page.text.index("</section>",
                                                                              page.text.index('id="critical-banner"'))]
    assert "特急案件 1 件，请优先办理" in banner and f'data-case="{world.extra["critical"]}"' in banner
    assert f'data-ids="{world.extra["critical"]}"' in banner and "自然时间" in banner
    assert 'id="critical-alarm"' in page.text and "/static/desk_urgent.js" in page.text
    queue = client.get("/desk?queue=to_register").text
    rows = re.findall(r'<a href="/desk/cases/(\d+)\?queue=\w+" class="case-row', queue)
    assert rows == [str(world.extra["critical"]), str(world.extra["normal"])], "特急 first, though reported later"
    partial = client.get("/desk/critical", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert 'id="critical-banner"' in partial.text and "<html" not in partial.text


def test_no_banner_outside_scope_and_the_desk_gates(client, world):
    log_in(client, "leader_b")
    page = client.get("/desk")
    assert 'class="critical-banner is-empty"' in page.text and "请优先办理" not in page.text
    log_in(client, "auditor")
    assert client.get("/desk/critical").status_code == 403
    assert client.get("/desk/events").status_code == 403


def test_the_alarm_names_only_critical_cases():
    critical = Change("case", 7, "1.2", {"urgency": "critical", "department_id": None, "reporter_user_id": None})
    assert alarm_text(critical) == 'event: critical\ndata: {"id": 7}\n\n'
    assert alarm_text(Change("case", 8, "1.2", {"urgency": "normal"})) is None


def test_time_basis_per_limit_on_the_admin_page(client, world, factory):
    csrf = log_in(client, "admin")
    minor = world.extra["category"].id
    page = client.get(f"/admin/categories/{minor}").text
    assert '<option value="natural_hours"' in page and "自然日" in page
    assert re.search(r'id="critical_natural" name="critical_natural" checked', page)
    form = {"csrf_token": csrf, "default_urgency": "normal"}
    for step, limit in (("register", LIMITS["register"]), ("dispatch", LIMITS["dispatch"]),
                        ("accept", LIMITS["accept"]), ("verify", LIMITS["verify"]),
                        *((f"handle.{u}", LIMITS["handle"][u]) for u in ("normal", "urgent", "critical"))):
        form[f"{step}.amount"], form[f"{step}.unit"] = str(limit["amount"]), limit["unit"]
    form["register.unit"] = "natural_hours"
    r = client.post(f"/admin/categories/{minor}", data=form, headers=hx(csrf))
    assert r.status_code == 200 and "已保存" in r.text, r.text[:800]
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        saved = s.get(Category, minor).time_limits
    assert saved["register"]["unit"] == "natural_hours" and saved["critical_natural"] is False
    assert not re.search(r'id="critical_natural" name="critical_natural" checked', r.text)
    bad = client.post(f"/admin/categories/{minor}", data={**form, "verify.unit": "fortnights"}, headers=hx(csrf))
    assert bad.status_code == 422


def test_time_basis_per_limit_through_the_api(client, world):
    admin = login(client, "admin")
    minor = world.extra["category"].id
    limits = {**LIMITS, "handle": {**LIMITS["handle"], "normal": {"amount": 1, "unit": "natural_days"}},
              "critical_natural": False}
    r = client.patch(f"/api/v1/categories/{minor}", json={"time_limits": limits}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()["time_limits"]
    assert body["handle"]["normal"] == {"amount": 1.0, "unit": "natural_days"} and body["critical_natural"] is False
    wrong = client.patch(f"/api/v1/categories/{minor}", headers=admin,
                         json={"time_limits": {**limits, "verify": {"amount": 1, "unit": "moons"}}})
    assert wrong.status_code == 422 and wrong.json()["code"] == "validation_failed"
    case = client.get(f"/api/v1/cases/{world.extra['critical']}", headers=login(client, "leader_a")).json()
    assert case["step_basis"] == "natural" and case["urgency"] == "critical"
