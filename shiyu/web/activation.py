"""The first log-in of a bulk-imported account (首次登录激活): username + one-time code + a new password,
then logged in like after a password log-in. The rules are identity's
(``shiyu.org.identity.bulk.activation``); a wrong, used or expired code answers alike and is throttled."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shiyu.core.errors import ShiyuError
from shiyu.core.http import client_ip, language
from shiyu.org.identity.bulk import activation
from shiyu.org.identity.deps import csrf_ok, start_session
from shiyu.web.i18n import translate
from shiyu.web.page_deps import render

router = APIRouter(include_in_schema=False)


@router.get("/activate")
def activate_form(request: Request) -> Response:
    return render(request, "activate.html", username="", error=None, field=None)


@router.post("/activate")
def activate(request: Request, username: str = Form(""), code: str = Form(""), new_password: str = Form(""),
             repeat: str = Form(""), csrf_token: str = Form("")) -> Response:
    lang = language(request)
    username = username.strip()[:64]
    if not csrf_ok(request, csrf_token):
        return render(request, "activate.html", 403, username=username, error=translate(lang, "error.csrf"),
                      field=None)
    if new_password != repeat:
        return render(request, "activate.html", 422, username=username, field="repeat",
                      error=translate(lang, "activate.mismatch"))
    try:
        result = activation.activate(request.app.state.session_factory, request.app.state.settings, username,
                                     code[:32], new_password, client_ip(request))
    except ShiyuError as exc:
        field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
        return render(request, "activate.html", exc.status, username=username, error=exc.message(lang),
                      field=field)
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, result.user_id, result.token_version)
    return response
