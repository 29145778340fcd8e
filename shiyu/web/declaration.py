"""The pages: the desk, the command view, the field app, the citizen portal, analysis and administration,
with the navigation entries that lead to them."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from shiyu.triage.hot.hot_cases import MANAGE as HOT_ISSUE_MANAGE
from shiyu.web import notices, pages, todo
from shiyu.web.command.routes import VIEW as COMMAND_VIEW
from shiyu.web.desk.routes import DESK_PERMISSIONS
from shiyu.web.field.routes import FIELD_ROLES
from shiyu.web.reports.routes import VIEW as REPORTS_VIEW


def _p(*names: str) -> frozenset[str]:
    return frozenset(names)


DOMAIN = Domain(
    name="pages",
    page_routers=(pages.router,),
    todo=(todo.desk, todo.evaluations, notices.unread),
    translations=Path(__file__).parent / "i18n",
    nav=(
        NavEntry("home", "/", "work", "home", order=0),
        NavEntry("messages", "/notices", "work", "check", order=1),
        NavEntry("command", "/command", "work", "map", _p(COMMAND_VIEW), order=3),
        NavEntry("field", "/field", "work", "map", roles=FIELD_ROLES, order=3),
        NavEntry("desk", "/desk", "work", "check", frozenset(DESK_PERMISSIONS), order=5),
        NavEntry("desk_area", "/desk/area", "work", "search", frozenset(DESK_PERMISSIONS), order=6),
        NavEntry("reports", "/reports", "work", "calendar", _p(REPORTS_VIEW), order=5),
        NavEntry("statistics", "/analysis/statistics", "work", "tree",
                 _p("indicator.view", "indicator.view_department"), order=5),
        NavEntry("hot", "/analysis/hot", "work", "search", _p(HOT_ISSUE_MANAGE), order=6),
        NavEntry("portal", "/portal", "work", "users", order=90),
        NavEntry("account", "/account/password", "work", "user", order=95),
        NavEntry("areas", "/admin/areas", "admin", "map",
                 _p("area.edit", "area.import", "area.propose", "area.approve"), order=10),
        NavEntry("proposals", "/admin/areas/proposals", "admin", "check", _p("area.approve", "area.propose"),
                 order=11),
        NavEntry("units", "/admin/units", "admin", "building", _p("centre.edit", "department.edit"), order=20),
        NavEntry("categories", "/admin/categories", "admin", "tree", _p("category.edit"), order=30),
        NavEntry("routing", "/admin/routing", "admin", "route", _p("routing.edit"), order=40),
        NavEntry("calendar", "/admin/calendar", "admin", "calendar", _p("calendar.edit"), order=50),
        NavEntry("users", "/admin/users", "admin", "users", _p("user.manage"), order=60),
        NavEntry("audit", "/admin/audit", "admin", "search", _p("audit.view"), order=70),
        NavEntry("outbox", "/admin/outbox", "admin", "route", _p("outbox.manage"), order=80),
    ),
)
