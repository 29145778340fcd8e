"""Stored text stays text (security review S2, S6): a world whose category, area, department and centre names,
calendar, routing rule, boundary note, case descriptions, addresses, reporter names and attributes carry
script — ``<img onerror>``, ``"><script>``, attribute break-outs, ``javascript:`` — is opened in Chromium as
every role of the test world on every page of the router, and on the command view every kind of popup and
tooltip is opened. No dialog may fire, no Content-Security-Policy violation may be reported (one would mean
markup got in, or that our own code breaks the policy), no Alpine expression may fail, and the pages still
work: the maps draw, popups show the names as text, the administrator's area picker chooses an area."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import SKIP_REASON, WAIT_MS, console_problem, log_in, running_world
from tests.factories import PASSWORD, add_user, box
from tests.security.page_routes import page_urls

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")]

DESKTOP = {"width": 1366, "height": 850}
# The test world's people, and a street centre leader, who sees both communities on the command view.
ROLES = [None, "admin", "leader_street", "leader_a", "leader_b", "operator_a", "worker_a1", "worker_b1", "handler_a",
         "auditor", "officer_a"]


def img(tag: str) -> str:
    return f'<img src=x onerror=alert("{tag}")>'


def script(tag: str) -> str:
    return f'"><script>alert("{tag}")</script>'


# Each name fits its column and carries a tag, so a dialog would say which field let script through.
BREAKOUT = """a" onmouseover="alert('attr')" x='"""
MAJOR_ZH = "大类" + script("major-zh")
MAJOR_EN = "Major" + img("major-en") + ' javascript:alert("major-link")'
MINOR_ZH = "小类" + img("minor-zh")
MINOR_EN = "Minor" + script("minor-en") + img("minor-en2")
FIELD_LABEL = "权属" + img("field")
CHOICE = img("choice")
AREA_A = "甲社区" + img("area-a") + BREAKOUT
AREA_B = "乙社区" + script("area-b")
GRID_A1 = "网格" + '<svg onload=alert("grid")>'
DEPT_A = "物业办" + img("dept") + script("dept2")
CENTRE_A = "中心" + img("centre")
HOLIDAY = "节" + img("holiday")
RULE = "规则" + img("rule") + BREAKOUT
NOTE = "边界" + script("note") + img("note2")
DESCRIPTION = "描述" + img("desc") + script("desc2") + " {{7*7}} ${7*7} " + BREAKOUT
ADDRESS = "地址" + '<svg onload=alert("addr")>' + ' javascript:alert("addr2")'
ROAD = "小区" + img("road") + BREAKOUT
RESIDENT = "住" + script("resident")
REPORTER = "张" + img("reporter")
ATTRIBUTE = img("attribute") + script("attribute2")
ACTION_NOTE = "立案" + img("action-note")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Its own server on the small world with every stored name made hostile, and three cases filed through
    the API: a grid worker's (registered, with a note), and an anonymous citizen's with contact data."""
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from shiyu.cases.categories.models import Category
    from shiyu.cases.routing.models import RoutingRule
    from shiyu.core.scoping import Principal
    from shiyu.core.timeutil import utcnow
    from shiyu.disputes.models import Dispute
    from shiyu.org.areas.models import AreaBoundary
    from shiyu.org.calendar.models import DayKind
    from shiyu.org.calendar.schemas import DayRange
    from shiyu.org.calendar.service import apply_year
    from shiyu.org.units.models import Centre
    from shiyu.registry.models import House
    from shiyu.tasks import service as tasks
    from tests.cases.case_fixtures import LIMITS
    from tests.disputes.dispute_fixtures import hostile_dispute, hostile_pool
    from tests.petitions.petition_fixtures import officers, register
    from tests.registry.registry_fixtures import member, registered_family

    def fill(session, w) -> dict:
        major = Category(kind="incident", code="I99", name_zh=MAJOR_ZH, name_en=MAJOR_EN)
        minor = Category(kind="incident", code="I9901", name_zh=MINOR_ZH, name_en=MINOR_EN, parent=major,
                         time_limits=LIMITS, default_urgency="normal",
                         fields=[{"name": "owner", "label_zh": FIELD_LABEL, "label_en": FIELD_LABEL, "type": "text"},
                                 {"name": "sort", "label_zh": "种类", "type": "choice", "choices": [CHOICE, "b"]}])
        session.add_all([major, minor])
        w.community_a.name = AREA_A
        w.community_b.name = AREA_B
        w.grids["a1"].name = GRID_A1
        w.departments["a"].name = DEPT_A
        w.users["leader_a"].full_name = REPORTER
        add_user(session, "leader_street", w.street, [("centre_leader", w.street)])
        centre = session.query(Centre).filter_by(area_id=w.community_a.id).one()
        centre.name = CENTRE_A
        apply_year(session, 2026, [DayRange(start="2026-10-01", end="2026-10-07", kind=DayKind.HOLIDAY,
                                            name_zh=HOLIDAY, name_en=HOLIDAY)])
        session.flush()
        session.add(RoutingRule(name=RULE, category_id=minor.id, area_id=w.community_a.id,
                                area_prefix=w.community_a.area_path, department_id=w.departments["a"].id,
                                conditions={"owner": ATTRIBUTE}))
        session.add(AreaBoundary(area_id=w.grids["b1"].id, version=2, geometry=box(118.05, 24.55, 118.2, 24.69),
                                 status="proposed", proposed_at=utcnow(), area_path=w.grids["b1"].area_path,
                                 note=NOTE))
        session.flush()
        family = registered_family(session, w, "worker_a1", "operator_a", road=ROAD,
                                   members=[member(RESIDENT, occupation=img("occupation"))])
        house = session.get(House, family["house"])
        tasks.ensure_system_type(session, "xss.check", "查" + script("task-type"),
                                 [{"name": "note", "label": img("task-field"), "type": "text"}])
        campaign = tasks.assign(session, session.info["principal"], type_code="xss.check",
                                title="任务" + img("campaign"), due_at=utcnow() + timedelta(days=3),
                                grid_ids=[w.grids["a1"].id], instructions=script("instructions"))
        dispute = hostile_dispute(session, w, RESIDENT, img("dispute-title"))
        pool = hostile_pool(session, img("mediator"), BREAKOUT)
        officers(session, w)
        petition = register(session, w, "officer_a", w.community_a.id, name=RESIDENT, demands=DESCRIPTION,
                            complained_unit=DEPT_A)
        session.info["principal"] = Principal.system("test")
        return {"campaign": campaign.id, "dispute": dispute, "petition": petition.id, **pool,
                "dispute_code": session.get(Dispute, dispute).code,
                "major": major.id, "minor": minor.id, "street": w.street.id, "community_a": w.community_a.id,
                "department": w.departments["a"].id, "leader_a": w.users["leader_a"].id,
                "house": family["house"], "building": house.building_id, "person": family["persons"][0],
                "grid_a1": w.grids["a1"].id}

    with running_world(tmp_path_factory.mktemp("xss"), fill, backend="sqlite") as world:
        world["ids"].update(_file_cases(world["url"], world["ids"]["minor"]))
        yield world


def _token(api: httpx.Client, username: str) -> dict[str, str]:
    r = api.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _file_cases(url: str, category: int) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=10) as api:
        worker = _token(api, "worker_a1")
        r = api.post("/api/v1/cases", headers=worker, json={
            "idempotency_key": "xss-grid-case", "channel": "grid", "category_id": category,
            "description": DESCRIPTION, "address": ADDRESS, "location": {"lon": 117.95, "lat": 24.6},
            "attributes": {"owner": ATTRIBUTE, "sort": CHOICE}})
        assert r.status_code == 201, r.text
        grid_case = r.json()
        r = api.post(f"/api/v1/cases/{grid_case['id']}/actions/register", headers=_token(api, "operator_a"),
                     json={"expected_version": grid_case["version"], "note": ACTION_NOTE, "fields": {}})
        assert r.status_code == 200, r.text
        r = api.post("/api/v1/cases", json={
            "idempotency_key": "xss-citizen-case", "channel": "citizen", "category_id": category,
            "description": DESCRIPTION, "address": ADDRESS, "location": {"lon": 118.15, "lat": 24.45},
            "reporter": {"name": REPORTER, "phone": "13800000000"}})
        assert r.status_code == 201, r.text
        citizen_case = r.json()
    return {"case": grid_case["id"], "citizen_case": citizen_case["id"], "code": citizen_case["tracking_code"]}


class Watched:
    """A browser context whose pages report every dialog and every console problem (a CSP violation, an
    Alpine expression error) and uncaught script error into lists the test asserts are empty."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.context: BrowserContext = browser.new_context(base_url=url, viewport=DESKTOP, locale="zh-CN")
        self.context.set_default_timeout(WAIT_MS)
        self.context.on("console", self._console)
        self.context.on("page", self._watch)
        self.page = self.context.new_page()

    def _console(self, message: Any) -> None:
        if console_problem(message.text):
            self.problems.append(f"{message.page.url if message.page else ''}: {message.text}")

    def _watch(self, page: Page) -> None:
        page.on("dialog", lambda d: (self.dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: uncaught {e}"))

    def assert_clean(self) -> None:
        assert not self.dialogs, f"script from stored text ran: {self.dialogs}"
        assert not self.problems, f"console problems: {self.problems}"


@pytest.fixture
def watched(browser: Browser, hostile: dict) -> Iterator[Watched]:
    w = Watched(browser, hostile["url"])
    yield w
    w.context.close()


# Pages read from the router, and the same pages once more with the query that shows the hostile data.
def _urls(world: dict) -> list[str]:
    ids = world["ids"]
    params = {"area_id": ids["community_a"], "department_id": ids["department"], "category_id": ids["minor"],
              "user_id": ids["leader_a"], "case_id": ids["case"], "report_id": 999_999, "import_id": 999_999,
              "building_id": ids["building"], "house_id": ids["house"], "person_id": ids["person"],
              "assignment_id": ids["campaign"], "dispute_id": ids["dispute"], "org_id": ids["org"],
              "mediator_id": ids["mediator"], "petition_id": ids["petition"], "record_id": 999_999,
              "code": ids["dispute_code"]}
    return page_urls(world["app"], params) + [
        f"/admin/areas?area={ids['street']}", f"/admin/areas?area={ids['community_a']}",
        f"/admin/categories/{ids['major']}", "/admin/units?tab=centres", "/admin/calendar?year=2026",
        "/admin/categories?inactive=true", f"/desk/cases/{ids['citizen_case']}", f"/portal/track?code={ids['code']}",
        f"/registry?area={ids['grid_a1']}", "/registry/changes?status=accepted",
        f"/tasks/assignments/{ids['campaign']}?area={ids['grid_a1']}",
        "/disputes?state=agreed", "/portal/mediation",
    ]


SETTLED = """() => document.readyState === "complete"
  && [...document.querySelectorAll(".map[data-src]")].every(m => m.dataset.features !== undefined)
  && [...document.querySelectorAll("#command-map")].every(m => m.dataset.ready === "1")"""


@pytest.mark.spread
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_page_as_every_role_runs_no_stored_script(watched: Watched, hostile: dict, role: str | None) -> None:
    page = watched.page
    if role:
        log_in(page, role)
    for url in _urls(hostile):
        response = page.goto(url)
        assert response is not None and response.status < 500, f"{url} as {role}: {response and response.status}"
        try:
            page.wait_for_function(SETTLED, timeout=30_000)
        except PlaywrightTimeout:
            pytest.fail(f"{url} as {role}: its maps never finished drawing")
    watched.assert_clean()


def _tooltip_texts(page: Page, paths: Any) -> list[str]:
    """Hover each path and read the tooltip it shows (the topmost path at its centre answers)."""
    texts = []
    for i in range(paths.count()):
        paths.nth(i).hover(force=True)
        tip = page.locator("#command-map .leaflet-tooltip").last
        tip.wait_for()
        texts.append(tip.inner_text())
    return texts


def test_command_view_popups_and_tooltips_show_names_as_text(watched: Watched, hostile: dict) -> None:
    page, ids = watched.page, hostile["ids"]
    log_in(page, "leader_street")
    page.goto("/command")
    board = page.locator("#command-map")
    expect(board).to_have_attribute("data-ready", "1")
    expect(board).to_have_attribute("data-count", "2")
    # The communities' tooltips.
    texts = _tooltip_texts(page, board.locator("path.leaflet-interactive:not(.case-marker)"))
    assert AREA_A in texts and AREA_B in texts, texts
    # Each case marker's popup: state, category (major · minor) as text, and a working link to the desk.
    for case in (ids["case"], ids["citizen_case"]):
        board.locator(f"path.case-{case}").click(force=True)
        content = page.locator("#command-map .leaflet-popup-content")
        expect(content).to_contain_text(f"{MAJOR_ZH} · {MINOR_ZH}")
        expect(content.locator("img, script, svg")).to_have_count(0)
        expect(content.locator("a")).to_have_attribute("href", f"/desk/cases/{case}")
        page.locator("#command-map .leaflet-popup-close-button").click()
        expect(page.locator("#command-map .leaflet-popup")).to_have_count(0)
    # Colour by category: the legend names the major class as text.
    page.check("#layers input[value=category]")
    expect(page.locator("#command-legend")).to_contain_text(MAJOR_ZH)
    # The departments' jurisdictions, drawn on top of the areas.
    page.check("#layers input[name=jurisdictions]")
    jurisdictions = board.locator("path.jurisdiction")
    expect(jurisdictions.first).to_be_attached()
    assert any(DEPT_A in t for t in _tooltip_texts(page, jurisdictions))
    # The trend's tooltip (drawn on the canvas, not as HTML with style attributes).
    page.locator("#trend-chart canvas").hover()
    watched.assert_clean()


def test_areas_map_tooltips_and_tree_show_names_as_text(watched: Watched, hostile: dict) -> None:
    page, ids = watched.page, hostile["ids"]
    log_in(page, "admin")
    page.goto(f"/admin/areas?area={ids['street']}")
    labels = page.locator("#area-map .leaflet-tooltip.area-label")
    expect(labels).to_have_count(2)  # two children: labels stay on the map
    assert sorted(labels.all_inner_texts()) == sorted([AREA_A, AREA_B])
    expect(labels.locator("img, script, svg")).to_have_count(0)
    # Expanding the tree loads the next level through htmx; the names arrive as text.
    page.locator(".tree .node", has_text=AREA_A).locator("button.toggle").click()
    expect(page.locator(".tree .node a", has_text=GRID_A1)).to_be_visible()
    watched.assert_clean()


def test_area_picker_chooses_a_hostile_area_and_survives_a_rejected_form(watched: Watched, hostile: dict) -> None:
    page, ids = watched.page, hostile["ids"]
    log_in(page, "admin")
    page.goto("/admin/users/new")
    picker = page.locator(".picker", has=page.locator("#pick-home_area_id"))
    picker.locator("#pick-home_area_id").fill("甲社区")
    picker.locator("li button", has_text=AREA_A).click()
    expect(picker.locator("#pick-home_area_id")).to_have_value(AREA_A)
    expect(picker.locator("input[name=home_area_id]")).to_have_value(str(ids["community_a"]))
    # A name that is taken: the form comes back with the chosen area's name in the picker's attributes.
    page.fill("#username", "admin")
    page.fill("#password", "Another-Passw0rd")
    page.click("#user-form-card button[type=submit]")
    expect(page.locator("#err-username")).to_be_visible()
    picker = page.locator(".picker", has=page.locator("#pick-home_area_id"))
    expect(picker.locator("#pick-home_area_id")).to_have_value(AREA_A)
    expect(picker.locator("input[name=home_area_id]")).to_have_value(str(ids["community_a"]))
    # … and still works: choose another area.
    picker.locator("#pick-home_area_id").fill("乙社区")
    picker.locator("li button", has_text=AREA_B).click()
    expect(picker.locator("input[name=home_area_id]")).not_to_have_value(str(ids["community_a"]))
    expect(picker.locator("#pick-home_area_id")).to_have_value(AREA_B)
    watched.assert_clean()


def test_department_jurisdictions_list_names_as_text(watched: Watched, hostile: dict) -> None:
    page, ids = watched.page, hostile["ids"]
    log_in(page, "admin")
    page.goto(f"/admin/units/departments/{ids['department']}")
    chips = page.locator("fieldset .chips li")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(AREA_A)
    page.locator("fieldset .picker input[type=search]").fill("乙社区")
    page.locator("fieldset .picker li button", has_text=AREA_B).click()
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text(AREA_B)
    expect(page.locator("fieldset input[name=jurisdiction_area_ids]")).to_have_count(2)
    chips.first.locator("button").click()
    expect(chips).to_have_count(1)
    watched.assert_clean()


def test_api_docs_work_offline_under_the_policy(watched: Watched, hostile: dict) -> None:
    page = watched.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Shiyu")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.locator(".swagger-ui .opblock-summary").first.click()
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    assert all(r.startswith(hostile["url"]) or r.startswith("data:") for r in requests), requests
    watched.assert_clean()


def test_admin_form_widgets_work_under_the_policy(watched: Watched, hostile: dict) -> None:
    """The Alpine pieces whose expressions moved into components or data attributes still behave."""
    page = watched.page
    log_in(page, "admin")
    # Calendar: the holiday with a hostile name is listed as a value; rows are added and removed.
    page.goto("/admin/calendar?year=2026")
    expect(page.locator("input[name=r_name_zh]").first).to_have_value(HOLIDAY)
    periods = page.locator("input[name=start][type=time]")
    expect(periods.first).to_have_value("08:30")
    before = periods.count()
    page.get_by_role("button", name="添加时段", exact=True).click()
    expect(periods).to_have_count(before + 1)
    ranges = page.locator("input[name=r_start]")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(ranges).to_have_count(2)
    # Routing: the target switch shows the matching field.
    page.goto("/admin/routing")
    expect(page.locator("#r-dept")).to_be_visible()
    page.check("input[name=target][value=territory]")
    expect(page.locator("#r-level")).to_be_visible()
    expect(page.locator("#r-dept")).to_be_hidden()
    # A user's grant form: a department role asks for a department instead of an area.
    page.goto(f"/admin/users/{hostile['ids']['leader_a']}")
    expect(page.locator("#pick-g-area")).to_be_visible()
    page.select_option("#g-role", "department_handler")
    expect(page.locator("#g-dept")).to_be_visible()
    expect(page.locator("#pick-g-area")).to_be_hidden()
    # The deadline bar gets its width from data-width through the CSSOM (no style attribute in the page).
    page.goto(f"/desk/cases/{hostile['ids']['case']}")
    bar = page.locator("#deadline .progress > div")
    expect(bar).to_have_attribute("data-width", re.compile(r"^\d+$"))
    assert bar.evaluate("e => e.style.width") == bar.get_attribute("data-width") + "%"
    watched.assert_clean()
