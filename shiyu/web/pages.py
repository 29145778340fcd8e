"""Server-rendered pages: log in / log out with an HTTP-only session cookie, the role-aware home page, and
the administration pages (``shiyu.web.admin``).

CSRF: every form carries a token bound to the browser's session (or, before log-in, to a pre-session value),
sent back in the form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx/fetch); a cross-site page
cannot read it, and a token from another session does not pass (``shiyu.org.identity.deps.csrf_token``). The session
cookie itself is HTTP-only, SameSite=Lax, and Secure by the setting ``SHIYU_COOKIE_SECURE``.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shiyu.core.errors import ShiyuError
from shiyu.core.http import client_ip, language
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service as areas
from shiyu.org.identity import service, sessions
from shiyu.org.identity.deps import SESSION_COOKIE, csrf_ok, session_claims, start_session
from shiyu.org.units.service import department_names
from shiyu.web import todo
from shiyu.web.account import router as account_router
from shiyu.web.activation import router as activation_router
from shiyu.web.admin import router as admin_router
from shiyu.web.admin.setup import checklist
from shiyu.web.analysis import router as analysis_router
from shiyu.web.command import router as command_router
from shiyu.web.desk import router as desk_router
from shiyu.web.disputes import router as disputes_router
from shiyu.web.field import router as field_router
from shiyu.web.i18n import translate
from shiyu.web.keypersons import router as keypersons_router
from shiyu.web.notices import router as notices_router
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render
from shiyu.web.petitions import router as petitions_router
from shiyu.web.portal import router as portal_router
from shiyu.web.registry import router as registry_router
from shiyu.web.reports import router as reports_router
from shiyu.web.tasks import router as tasks_router

router = APIRouter(include_in_schema=False)
shell = APIRouter(include_in_schema=False, route_class=PageRoute)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), username="", error=None)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")) -> Response:
    lang = language(request)
    if not csrf_ok(request, csrf_token):
        return render(request, "login.html", 403, next=_safe_next(next), username=username,
                      error=translate(lang, "error.csrf"))
    try:
        result = sessions.authenticate(request.app.state.session_factory, request.app.state.settings, username,
                                       password, client_ip(request))
    except ShiyuError as exc:
        return render(request, "login.html", exc.status, next=_safe_next(next), username=username,
                      error=exc.message(lang))
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, result.user_id, result.token_version)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    """Ends this browser's session for good: its token is revoked, not only its cookie dropped."""
    if not csrf_ok(request, csrf_token):
        return render(request, "login.html", 403, next="/", username="",
                      error=translate(language(request), "error.csrf"))
    claims = session_claims(request)
    if claims is not None:
        sessions.log_out(request.app.state.session_factory, claims, client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _grant_places(db: PageDb, principal: PagePrincipal) -> list[dict[str, str]]:
    """Each grant with the name of its area or department (named even where the grant gives no right to
    view areas or departments: they are the caller's own)."""
    codes = [g.area_path.rstrip("/").rsplit("/", 1)[-1] for g in principal.grants if g.area_path]
    refs = areas.refs_by_code(db, codes)
    depts = department_names(db, [g.department_id for g in principal.grants])
    out = []
    for g in principal.grants:
        if g.department_id:
            place = depts.get(g.department_id, str(g.department_id))
        else:
            ref = refs.get((g.area_path or "").rstrip("/").rsplit("/", 1)[-1])
            place = ref.name if ref else g.area_path or ""
        out.append({"role": g.role, "place": place})
    return out


def _stats(db: PageDb, principal: PagePrincipal) -> list[dict[str, object]]:
    """A few counts for the home page, each only for those who can act on it."""
    stats: list[dict[str, object]] = []
    if principal.has_permission("area.approve"):
        stats.append({"key": "home.stat.proposals", "value": areas.count_open_proposals(db),
                      "href": "/admin/areas/proposals"})
    if any(principal.has_permission(p) for p in ("area.edit", "area.import", "area.propose")):
        stats.append({"key": "home.stat.grids", "value": areas.count_grids(db), "href": "/admin/areas"})
    if principal.has_permission("user.manage"):
        stats.append({"key": "home.stat.users", "value": service.count_users(db), "href": "/admin/users"})
    return stats


@shell.get("/")
def home(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    setup = checklist(db, principal, request.app.state.settings.tz, utcnow())
    return render(request, "home.html", grants=_grant_places(db, principal), stats=_stats(db, principal),
                  setup=setup, todo=todo.items_for(db, principal), me=principal.shown_name)



router.include_router(shell)
router.include_router(account_router)
router.include_router(activation_router)
router.include_router(admin_router)
router.include_router(desk_router)
router.include_router(analysis_router)
router.include_router(command_router)
router.include_router(reports_router)
router.include_router(portal_router)
router.include_router(field_router)
router.include_router(registry_router)
router.include_router(tasks_router)
router.include_router(notices_router)
router.include_router(keypersons_router)
router.include_router(disputes_router)
router.include_router(petitions_router)
