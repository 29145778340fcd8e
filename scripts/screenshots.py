"""``make screenshots``: start the app on the demo database and save PNGs of each main page at desktop
(1366×850) and phone (360×740) sizes, and the big screen at 1920×1080, into ``docs/screenshots/``.

Needs the demo database (``shiyu db upgrade && shiyu demo --if-absent``, as ``make run`` does), the
``playwright`` package and Chromium at ``/usr/bin/chromium`` (or ``SHIYU_CHROMIUM``). Nothing is downloaded.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("SHIYU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
SIZES = {"desktop": (1366, 850), "phone": (360, 740), "screen": (1920, 1080)}
# Pages shot at one size only: the field app on a phone, the big screen (大屏) at 1920×1080.
ONLY = {"field": "phone", "big-screen": "screen"}
PASSWORD = "Demo@2026"


def pages(ids: dict[str, int]) -> list[tuple[str, str, str | None]]:
    """(file stem, URL, demo login or None for a public page) of each main page, grouped by login."""
    admin = [
        ("home", "/"),
        ("areas", f"/admin/areas?area={ids['district']}"),
        ("areas-community", f"/admin/areas?area={ids['community']}"),
        ("area-import", "/admin/areas/import"),
        ("proposals", "/admin/areas/proposals"),
        ("units", "/admin/units"),
        ("department", f"/admin/units/departments/{ids['department']}"),
        ("categories", "/admin/categories"),
        ("category", f"/admin/categories/{ids['minor']}"),
        ("routing", "/admin/routing"),
        ("calendar", "/admin/calendar"),
        ("users", "/admin/users"),
        ("user", f"/admin/users/{ids['user']}"),
        ("audit", "/admin/audit"),
        ("command-city", "/command"),
        ("reports", "/reports"),
    ]
    operator = [
        ("desk", "/desk"),
        ("desk-case", f"/desk/cases/{ids['case']}"),
        # A case waiting for dispatch, opened from its queue: 转派 to the bureau the rules name, J/K, the keys.
        ("desk-to-dispatch", f"/desk/cases/{ids['to_dispatch']}?queue=to_dispatch"),
        ("command", "/command"),
    ]
    # The grid workers' phone app: phone size only (see main()).
    field = [
        ("field", "/field"),
        ("field-tasks", "/field/tasks"),
        ("field-patrol", "/field/patrol"),
        ("field-grid", "/field/grid"),
        ("field-register", "/field/register"),
    ]
    analyst = [
        ("hot-issues", "/analysis/hot"),
    ]
    # The registers, campaigns, key persons, disputes and petitions (issues 15–17), as the street's staff see
    # them: the administrator's registers and campaigns, the police officer's key persons, the mediator's and
    # the petition officer's desks (the leader's key-person dashboard is with the leader's pages).
    registers = [
        ("registry", "/registry"),
        ("registry-quality", "/registry/quality"),
        ("registry-import", "/registry/import"),
        ("tasks", "/tasks"),
    ]
    police = [  # key persons are not the administrator's to see; the community police officer visits them
        ("keypersons", "/keypersons"),
    ]
    mediator = [
        ("disputes", "/disputes"),
        ("disputes-workbench", "/disputes/workbench"),
    ]
    petitions = [
        ("petitions", "/petitions"),
    ]
    leader = [
        ("leader-command", "/command"),
        ("statistics", "/analysis/statistics"),
        ("drill-overdue", "/analysis/cases?figure=overdue"),
        ("big-screen", "/command/screen"),
        ("keypersons-dashboard", "/keypersons/dashboard"),  # the centre's leaders oversee key persons
    ]
    public = [
        ("login", "/login"),
        ("portal", "/portal"),
        ("portal-track", f"/portal/track?code={ids['tracking_code']}"),
    ]
    return ([(stem, url, None) for stem, url in public] + [(stem, url, "demo_admin") for stem, url in admin]
            + [(stem, url, "demo_operator") for stem, url in operator]
            + [(stem, url, "demo_grid_worker") for stem, url in field]
            + [(stem, url, "demo_analyst") for stem, url in analyst]
            + [(stem, url, "demo_admin") for stem, url in registers]
            + [(stem, url, "demo_police") for stem, url in police]
            + [(stem, url, "demo_mediator") for stem, url in mediator]
            + [(stem, url, "demo_petition") for stem, url in petitions]
            + [(stem, url, "demo_centre_leader") for stem, url in leader])


def shot_at(stem: str, size: str) -> bool:
    for prefix, only in ONLY.items():
        if stem.startswith(prefix):
            return size == only
    return size != "screen"


def demo_ids(app) -> dict[str, Any]:
    """Ids of one of each kind of object the pages show, picked deterministically from the demo city."""
    from sqlalchemy import select

    from shiyu.cases.categories.models import Category
    from shiyu.cases.models import Case, CaseState
    from shiyu.core.scoping import Principal
    from shiyu.org.areas.models import Area
    from shiyu.org.identity.models import User
    from shiyu.org.units.models import Department

    with app.state.session_factory() as s:
        s.info["principal"] = Principal.system("screenshots")
        operator = s.scalar(select(User).where(User.username == "demo_operator"))
        mine = Case.area_path.startswith(operator.area_path) if operator else Case.id.is_(None)
        case = s.scalar(select(Case).where(Case.state == CaseState.HANDLING, mine).order_by(Case.id).limit(1))
        # Waiting at the operator's own centre (a case waiting at another community's centre is theirs to
        # urge, not to dispatch), else anywhere the operator sees.
        own = Case.centre_path.in_([g.area_path for g in operator.grants]) if operator else Case.id.is_(None)
        waiting = s.scalar(select(Case.id).where(Case.state == CaseState.TO_DISPATCH, own).order_by(Case.id)
                           .limit(1)) or s.scalar(select(Case.id).where(Case.state == CaseState.TO_DISPATCH, mine)
                                                  .order_by(Case.centre_path.desc(), Case.id).limit(1))
        first = {lvl: s.scalar(select(Area.id).where(Area.level == lvl).order_by(Area.code).limit(1)) for lvl in (1, 3)}
        return {
            "district": first[1], "community": first[3],
            "department": s.scalar(select(Department.id).order_by(Department.code).limit(1)) or 0,
            "minor": s.scalar(select(Category.id).where(Category.parent_id.is_not(None)).order_by(Category.code)
                              .limit(1)) or 0,
            "user": s.scalar(select(User.id).where(User.username == "demo_grid_worker")) or 0,
            "case": case.id if case else 0,
            "to_dispatch": waiting or 0,
            "tracking_code": case.tracking_code if case else "",
        }


def main() -> int:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("需要 playwright 包 / the playwright package is required: pip install -e '.[dev]'")
        return 1
    if not Path(CHROMIUM).exists():
        print(f"未找到 Chromium / Chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
        return 1
    import uvicorn

    from shiyu.app import create_app
    from shiyu.core.config import Settings

    app = create_app(Settings())
    ids = demo_ids(app)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for size, (width, height) in SIZES.items():
                context = browser.new_context(viewport={"width": width, "height": height}, base_url=base,
                                              locale="zh-CN", device_scale_factor=1,
                                              is_mobile=size == "phone", has_touch=size == "phone")
                page = context.new_page()
                current: str | None = None
                for stem, url, user in pages(ids):
                    if not shot_at(stem, size):
                        continue
                    if user != current:
                        context.clear_cookies()
                        if user:
                            page.goto("/login")
                            page.fill("#username", user)
                            page.fill("#password", PASSWORD)
                            page.click("button[type=submit]")
                            page.wait_for_url(base + "/")
                        current = user
                    page.goto(url)
                    if url.startswith("/command"):  # its live event stream never lets the network go idle
                        page.wait_for_selector("#command-map[data-ready='1']", timeout=15_000)
                    else:
                        page.wait_for_load_state("networkidle")
                    if page.locator(".map[data-src]").count():
                        page.wait_for_selector(".map[data-features]", timeout=10_000)
                        page.wait_for_timeout(300)
                    path = OUT / f"{stem}-{size}.png"
                    page.screenshot(path=str(path), full_page=False)
                    print(f"{path.relative_to(ROOT)}")
                context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
