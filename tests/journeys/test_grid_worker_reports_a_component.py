"""A grid worker reports a broken thing by its plate: on a 360 px phone she reports a missing manhole cover and
types the code printed on it — first with a slip of the thumb, and the report comes back failed with
"没有该编码的部件" in the waiting list, nothing filed; then with the right code, and it is sent. The community's
operator opens the case and sees which component it is, its code and the unit that owns it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from tests.e2e.conftest import WAIT_MS, log_in, running_world, sized_page
from tests.e2e.test_field_browser import POINT_A1, fill_report, no_sideways_scroll

DESCRIPTION = "幸福路口井盖缺失，车辆经过有危险"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        from shiyu.core.scoping import Principal
        from shiyu.registry import changes
        from shiyu.registry.changes import Submission
        from shiyu.registry.models import Component
        from tests.cases.case_fixtures import POINT_A1 as A1
        from tests.cases.case_fixtures import make_category

        w.extra["category"] = make_category(s)
        system = Principal.system("e2e")
        record, _ = changes.submit(s, system, Submission("component", "create", {
            "class_code": "0101", "name": "幸福路口井盖", "owner_name": "市政设施管理处", **A1}))
        changes.decide(s, system, record.id, "review")
        changes.decide(s, system, record.id, "accept")
        return {"code": s.scalars(select(Component.code).where(Component.name == "幸福路口井盖")).one()}

    with running_world(tmp_path_factory.mktemp("component"), fill) as running:
        yield running


def test_a_report_names_the_component_by_its_plate(browser: Browser, world: dict, shots: Path) -> None:
    from shiyu.cases.models import Case
    from shiyu.core.scoping import Principal

    context = browser.new_context(base_url=world["url"], viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  geolocation=POINT_A1, permissions=["geolocation"], has_touch=True,
                                  is_mobile=True, service_workers="block")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "worker_a1")
    code = world["ids"]["code"]

    page.goto("/field")
    page.fill("#r-component", code[:-1] + ("0" if code[-1] != "0" else "1"))
    fill_report(page, DESCRIPTION, keep=True)
    expect(page.locator("#banner")).to_contain_text("没有该编码的部件")
    expect(page.locator("#waiting")).to_be_visible()
    page.locator("#waiting").click()
    expect(page.locator("#outbox")).to_contain_text("没有该编码的部件")
    no_sideways_scroll(page)
    page.screenshot(path=str(shots / "component-wrong-code-phone.png"), full_page=True)
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        assert s.scalars(select(Case).where(Case.description == DESCRIPTION)).all() == []

    page.goto("/field")
    page.fill("#r-component", code)
    fill_report(page, DESCRIPTION, keep=True)
    expect(page.locator("#banner")).to_contain_text("已发送")
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        case_id = s.scalars(select(Case.id).where(Case.description == DESCRIPTION)).one()
    context.close()

    desk = sized_page(browser, world["url"], 1280, 900)
    log_in(desk, "operator_a")
    desk.goto(f"/desk/cases/{case_id}")
    component = desk.locator("#component")
    expect(component).to_contain_text("幸福路口井盖")
    expect(component).to_contain_text(code)
    expect(component).to_contain_text("市政设施管理处")
    desk.screenshot(path=str(shots / "case-with-component-desktop.png"), full_page=True)
