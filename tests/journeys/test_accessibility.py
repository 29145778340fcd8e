"""Everyone can use every page (GB/T 37668-2019, which follows WCAG 2.1 AA): axe-core's A/AA rules over every
page each role reaches from its navigation — plus the case page and the citizen's pages — at a desktop and
a 360 px phone size, with a case in the queues so tables, maps and timelines are filled: 0 critical and
0 serious findings. Also: the skip link is the first Tab stop and moves focus into the page, and the closed
phone menu holds no Tab stop."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.axe import AUDIT_CONTEXT, audit, blocking
from tests.e2e.conftest import WAIT_MS, Settling, log_in, running_world

SIZES = {"desktop": {"width": 1366, "height": 850}, "phone": {"width": 360, "height": 740}}
ROLES = ("admin", "leader_a", "operator_a", "worker_a1", "handler_a", "auditor")
PUBLIC = ("/login", "/portal", "/portal/track")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from tests.cases.case_fixtures import make_category
    from tests.disputes.dispute_fixtures import pool

    def fill(session, w) -> dict:
        category = make_category(session)
        session.flush()
        return {"category": category.id, **pool(session, w)}  # the mediation pool's pages have rows

    with running_world(tmp_path_factory.mktemp("a11y"), fill) as running:
        import httpx

        r = httpx.post(running["url"] + "/api/v1/cases", json={
            "idempotency_key": "a11y-" + secrets.token_hex(6), "channel": "citizen",
            "category_id": running["ids"]["category"], "description": "楼道堆放杂物，影响通行",
            "location": {"lon": 117.95, "lat": 24.6}, "anonymous": True})
        assert r.status_code == 201, r.text
        running["ids"]["case"] = r.json()["id"]
        running["ids"]["tracking_code"] = r.json()["tracking_code"]
        yield running


def _page(browser: Browser, world: dict, size: str, **extra: object) -> Page:
    context = browser.new_context(viewport=SIZES[size], base_url=world["url"], locale="zh-CN", **extra)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _walker(browser: Browser, world: dict, size: str, **extra: object) -> tuple[Page, Settling]:
    """A page for a walk over many pages, and what tells when each has settled."""
    page = _page(browser, world, size, **extra)
    return page, Settling(page)


def _nav_links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("#sidebar a[href^='/']", "links => links.map(a => a.getAttribute('href'))")
    return sorted(set(hrefs))


def _audit_all(page: Page, settling: Settling, paths: list[str], who: str, size: str, found: dict[str, list]) -> int:
    """Audit each path and, once, the first record page linked from it (a user, a department, a category…),
    so the detail pages behind each list are covered too."""
    queue, seen = list(paths), set(paths)
    while queue:
        path = queue.pop(0)
        page.goto(path)
        settling.wait()
        problems = blocking(audit(page))
        if problems:
            found[f"{who} {size} {path}"] = problems
        if path in paths and path != "/":
            deeper = page.eval_on_selector_all(
                f"main a[href^='{path.split('?')[0]}/']:not([download])",  # a download is not a page
                "links => links.map(a => a.getAttribute('href'))")
            record = next((h for h in deeper if any(c.isdigit() for c in h) and h not in seen), None)
            if record:
                seen.add(record)
                queue.append(record)
    return len(seen)


@pytest.mark.slow
def test_every_page_of_every_role_passes_the_wcag_aa_rules_at_both_sizes(browser: Browser, world: dict) -> None:
    found: dict[str, list] = {}
    runs = 0
    case_page = f"/desk/cases/{world['ids']['case']}"
    for size in SIZES:
        for role in ROLES:
            page, settling = _walker(browser, world, size, **AUDIT_CONTEXT)
            log_in(page, role)
            paths = ["/", *[p for p in _nav_links(page) if p != "/"]]
            if role in ("leader_a", "operator_a"):  # the case page, the desk's search and its 辖区 list
                paths += [case_page, "/desk?q=%E6%A5%BC%E9%81%93", "/desk/area?view=cards", "/desk/area?from=x"]
            if role == "leader_a":  # the mediation pool's forms (the walk follows only one record link)
                paths += [f"/disputes/pool/mediators/{world['ids']['mediator']}", "/disputes/pool/orgs/new",
                          f"/disputes/pool/mediators/new?org_id={world['ids']['org']}"]
            if "/field" in paths:  # the field app's tabs are its own navigation
                paths += ["/field/tasks", "/field/patrol", "/field/grid"]
            runs += _audit_all(page, settling, paths, role, size, found)
            page.context.close()
        page, settling = _walker(browser, world, size, **AUDIT_CONTEXT)
        tracking = f"/portal/track?code={world['ids']['tracking_code']}"
        runs += _audit_all(page, settling, [*PUBLIC, tracking], "anonymous", size, found)
        page.context.close()
    print(f"\naxe-core WCAG 2.1 A/AA: {runs} page × size runs, {len(found)} with critical or serious findings")
    assert runs >= 40
    assert not found, found


@pytest.mark.parametrize("size", list(SIZES))
def test_the_first_tab_stop_skips_to_the_page_and_a_closed_menu_holds_none(browser: Browser, world: dict,
                                                                           size: str) -> None:
    page = _page(browser, world, size)
    log_in(page, "leader_a")
    page.goto("/desk")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    if size == "phone":  # the menu is closed: none of its links may take focus
        for _ in range(6):
            page.keyboard.press("Tab")
            assert not page.evaluate("() => !!document.activeElement.closest('#sidebar')")
        page.locator(".menu-toggle").click()
        page.locator("#sidebar a").first.focus()
        expect(page.locator("#sidebar a").first).to_be_focused()
    page.context.close()


@pytest.mark.slow
def test_no_page_scrolls_sideways_at_320_px(browser: Browser, world: dict) -> None:
    """Reflow (WCAG 1.4.10): at 320 CSS px nothing but a wide table or a map may need horizontal scrolling."""
    narrow = {"width": 320, "height": 640}
    wide: list[str] = []
    for role in (*ROLES, None):
        context = browser.new_context(viewport=narrow, base_url=world["url"], locale="zh-CN")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        settling = Settling(page)
        paths = list(PUBLIC)
        if role:
            log_in(page, role)
            paths = ["/", *[p for p in _nav_links(page) if p != "/"]]
        for path in paths:
            page.goto(path)
            settling.wait()
            if page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"):
                wide.append(f"{role or 'anonymous'} {path}")
        context.close()
    assert not wide, wide
