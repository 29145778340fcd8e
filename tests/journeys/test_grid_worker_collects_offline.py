"""A grid worker collects a new family on a 360 px phone with no signal: the address picker offers only their
own grids, the phone itself refuses an ID number whose check digit is wrong (GB 11643, the server's rule),
the 门牌 photo is taken, and the change waits in the queue. Back online, the first delivery reaches the server
but its answer is lost; the app sends again with the same key and the server answers with the first record
— one change, not two. The community operator reviews and accepts it; the family is in the register."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.cases.case_fixtures import jpeg_bytes
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.e2e.test_field_browser import PHONE, lose_first_answer, no_sideways_scroll, send_until_empty
from tests.registry.registry_fixtures import POINT_A1, id_number

HEAD, CHILD = id_number("19790611"), id_number("20090302")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("registry_field"),
                       lambda _s, w: {"a1": w.grids["a1"].id, "b1": w.grids["b1"].id}) as running:
        yield running


def test_a_family_collected_offline_reaches_the_register_once(browser: Browser, world: dict) -> None:
    context = browser.new_context(base_url=world["url"], viewport=PHONE, locale="zh-CN",
                                  geolocation={"longitude": POINT_A1["lon"], "latitude": POINT_A1["lat"]},
                                  permissions=["geolocation"], has_touch=True, is_mobile=True,
                                  service_workers="block")
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    log_in(phone, "worker_a1")
    phone.goto("/field")
    phone.locator('.f-tabs a[data-tab="register"]').click()
    expect(phone.locator("h1")).to_contain_text("基础信息采集")
    no_sideways_scroll(phone)
    grids = phone.locator("#rf-grid option")
    expect(grids).to_have_count(1)
    assert grids.first.get_attribute("value") == str(world["ids"]["a1"])

    context.set_offline(True)
    phone.fill("#rf-road", "和平里")
    phone.fill("#rf-building", "5")
    phone.fill("#rf-unit", "2")
    phone.fill("#rf-room", "601")
    phone.select_option("#rf-use", label="出租")
    phone.fill("#rf-m0-name", "黄建国")
    phone.fill("#rf-m0-id", HEAD[:17] + ("1" if HEAD[17] != "1" else "2"))  # one character mistyped
    phone.select_option("#rf-m0-type", label="流动")
    phone.fill("#rf-m1-name", "黄子轩")
    phone.fill("#rf-m1-id", CHILD)
    phone.select_option("#rf-m1-relation", "子女")
    phone.set_input_files("#rf-photo", files=[{"name": "门牌.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg_bytes((640, 480))}])
    phone.click("#reg-family button[type=submit]")
    expect(phone.locator('[data-error-for="rf-m0-id"]')).to_contain_text("校验位")
    expect(phone.locator("#waiting")).to_be_hidden()
    phone.fill("#rf-m0-id", HEAD)
    phone.click("#reg-family button[type=submit]")
    expect(phone.locator('[data-error-for="rf-m0-id"]')).to_be_hidden()
    expect(phone.locator("#waiting-count")).to_have_text("1")
    expect(phone.locator("#offline")).to_be_visible()

    requests = lose_first_answer(phone, "**/api/v1/registry/changes")
    context.set_offline(False)
    send_until_empty(phone)
    expect(phone.locator("#waiting")).to_be_hidden()
    keys = [r.post_data_json["client_key"] for r in requests]
    assert len(keys) >= 2 and len(set(keys)) == 1, keys
    changes = phone.request.get("/api/v1/registry/changes?status=submitted").json()
    assert changes["total"] == 1
    change = changes["items"][0]
    assert change["entity"] == "household" and len(change["photos"]) == 1
    assert {m["relation"] for m in change["after"]["members"]} == {"户主", "子女"}

    desk = browser.new_context(base_url=world["url"], viewport={"width": 1366, "height": 850}, locale="zh-CN")
    desk.set_default_timeout(WAIT_MS)
    operator = desk.new_page()
    log_in(operator, "operator_a")
    operator.goto("/registry/changes")
    operator.get_by_role("button", name="初审通过").click()
    operator.get_by_role("link", name="已初审").click()
    operator.get_by_role("button", name="审核入库").click()
    operator.wait_for_url("**/registry/changes?status=accepted*")
    found = operator.request.get(f"/api/v1/registry/persons?id_number={HEAD}").json()
    assert found["total"] == 1 and found["items"][0]["residence_type"] == "floating"
    assert operator.request.get(f"/api/v1/registry/persons?id_number={CHILD}").json()["total"] == 1
    context.close()
    desk.close()
