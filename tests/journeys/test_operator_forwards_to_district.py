"""The operator finds a case whose rule names a district department and gets it there in one action (issue 13).

A community centre has no department covering the place, and the routing rules name the district's 城市管理局.
The operator finds the case by its tracking code; the page offers no empty 派遣 list, but one action —
"转派至 东区城市管理局（经东区综治中心）" with the reason already written — and one click sends it. The district
operator finds it in 待派遣 with the bureau already chosen and dispatches it with one more click.

At a desktop size and at 360 px (a phone); screenshots go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary
directory) to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world

SIZES = {"desktop": {"width": 1366, "height": 850}, "phone": {"width": 360, "height": 740}}
BUREAU = "东区城市管理局"
DISTRICT_CENTRE = "东区综治中心"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.cases.routing.models import RoutingRule
    from shiyu.core.scoping import Principal
    from tests.cases.case_fixtures import act, district_department, make_category, report
    from tests.factories import add_user

    def fill(session, w) -> dict:
        w.extra["category"] = make_category(session)
        bureau = district_department(session, w)
        # Community A's own department does not cover the place any more: nothing to dispatch to there.
        w.departments["a"].jurisdictions.clear()
        session.add(RoutingRule(name="事件属地：城管局", kind="incident", area_id=w.district.id,
                                area_prefix=w.district.area_path, department_id=bureau.id))
        add_user(session, "operator_d", w.district, [("centre_operator", w.district)])
        session.flush()
        cases = {}
        for size in SIZES:
            case = report(session, w, address=f"南华路{len(cases) + 1}号").case
            cases[size] = act(session, w, "system", case, "register")
        session.info["principal"] = Principal.system("journey")
        return {size: {"id": c.id, "code": c.tracking_code} for size, c in cases.items()}

    with running_world(tmp_path_factory.mktemp("forward"), fill) as running:
        yield running


def _page(browser: Browser, world: dict, size: str) -> Page:
    context = browser.new_context(viewport=SIZES[size], base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_operator_gets_the_case_to_the_district_bureau_in_one_action(browser: Browser, world: dict,
                                                                         shots: Path, size: str) -> None:
    case = world["ids"][size]
    page = _page(browser, world, size)
    log_in(page, "operator_a")
    page.goto("/desk")
    box = page.get_by_role("searchbox", name="查找案件")
    box.fill(case["code"].lower())
    box.press("Enter")
    expect(page).to_have_url(f"{world['url']}/desk/cases/{case['id']}")
    actions = page.locator("#actions")
    # No empty 派遣 list; one action names where the case goes and why.
    expect(actions.locator("[data-action='dispatch']")).to_have_count(0)
    expect(page.locator("#routing")).to_contain_text(BUREAU)
    forward = actions.get_by_role("button", name=f"转派至 {BUREAU}（经{DISTRICT_CENTRE}）")
    expect(forward).to_be_visible()
    expect(actions.get_by_label("转派原因（已按派遣规则填写）")).to_have_value(
        f"{_explanation(page)}；本中心不能直接派遣{BUREAU}，转至{DISTRICT_CENTRE}派遣。")
    box = forward.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"], box
    page.screenshot(path=str(shots / f"desk-forward-offer-{size}.png"), full_page=True)
    forward.click()
    expect(page.get_by_role("status").filter(has_text="已完成：转派上级部门")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(f"转派至：{BUREAU}（经{DISTRICT_CENTRE}）")
    expect(page.locator("#timeline")).to_contain_text("本中心不能直接派遣")
    expect(page.get_by_text("您现在对这个案件没有可办理的操作")).to_be_visible()
    page.screenshot(path=str(shots / f"desk-forward-done-{size}.png"), full_page=True)
    page.context.close()

    # The district operator: the case waits in 待派遣 with the bureau chosen; one click dispatches it.
    page = _page(browser, world, size)
    log_in(page, "operator_d")
    page.goto("/desk?queue=to_dispatch")
    page.locator(f"#case-list a[data-case='{case['id']}']").click()
    dispatch = page.locator("details[data-action='dispatch']")
    expect(dispatch).to_have_attribute("open", "")
    expect(dispatch.get_by_label("主办部门")).to_have_value(str(_bureau_id(world)))
    dispatch.get_by_role("button", name="派遣", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="已完成：派遣")).to_be_visible()
    expect(page.locator("#case-state")).to_have_text("待签收")
    expect(page.locator("#timeline")).to_contain_text(f"派遣至：{BUREAU}")
    page.screenshot(path=str(shots / f"desk-forward-dispatched-{size}.png"), full_page=True)
    page.context.close()


def _explanation(page: Page) -> str:
    return page.locator("#routing p.muted").inner_text().strip()


def _bureau_id(world: dict) -> int:
    from shiyu.core.scoping import Principal
    from shiyu.org.units.models import Department

    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        return s.query(Department.id).filter(Department.name == BUREAU).scalar()
