"""An administrator finds a parked outbox delivery on /admin/outbox, reads why it failed, and redelivers it:
it leaves the list and its effect happens (the subscriber's audit entry appears in the audit log)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from shiyu.core import audit, outbox
from shiyu.core.scoping import Principal
from tests.e2e.conftest import WAIT_MS, log_in, running_world

EFFECT_TYPE = "journey_effect"


class Mailer:
    """A subscriber standing in for a mail gateway that was down: it fails until ``up``."""

    up = False

    def __call__(self, session, events) -> None:
        if not self.up:
            raise RuntimeError("SMTP 421 mail gateway unavailable")
        for event in events:
            audit.record(session, "create", EFFECT_TYPE, event.id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    mailer = Mailer()
    with pytest.MonkeyPatch.context() as mp, running_world(tmp_path_factory.mktemp("journey"),
                                                           lambda _s, _w: {}) as running:
        mp.setitem(outbox._SUBSCRIBERS, "journey.mailer", outbox.Subscriber("journey.mailer", "journey.", mailer))
        mp.setitem(outbox._POLICY, "current", outbox.Policy(max_attempts=1))
        with running["factory"]() as s:
            s.info["principal"] = Principal.system("journey")
            outbox.emit(s, "journey.mail", "case", 4242, "/", {"to": "someone"})
            s.commit()
        outbox.deliver_pending(running["factory"])  # fails once: parked at once (one attempt allowed)
        yield {**running, "mailer": mailer}


def test_the_administrator_redelivers_a_parked_delivery(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "admin")
    page.click("nav a[href='/admin/outbox']")
    expect(page.locator("h1")).to_have_text("搁置的投递")
    row = page.locator("#parked tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("journey.mail")
    expect(row).to_contain_text("journey.mailer")
    expect(row).to_contain_text("SMTP 421 mail gateway unavailable")

    world["mailer"].up = True  # the gateway is back
    with page.expect_response(lambda r: r.url.endswith("/redeliver")) as answer:
        row.get_by_role("button", name="重新投递").click()
    assert answer.value.status == 200
    expect(page).to_have_url(f"{world['url']}/admin/outbox?done=redeliver")
    expect(page.locator(".alert.ok")).to_contain_text("已重新排队")
    expect(page.locator("#parked")).to_have_count(0)

    assert outbox.deliver_pending(world["factory"]) == 1  # what the worker's delivery loop does
    page.goto(f"/admin/audit?object_type={EFFECT_TYPE}")
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.goto("/admin/audit?object_type=outbox_delivery")
    expect(page.locator("table tbody tr")).to_have_count(1)  # the redelivery itself is audited
    context.close()
