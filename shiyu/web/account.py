"""The user's own account: changing one's password (reachable from the user name in the top bar).

A change needs the current password and a new one that follows the rule; it ends every other session and
token of the account, and this browser gets a fresh session (``shiyu.org.identity.sessions.change_password``).
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import client_ip, language
from shiyu.org.identity import sessions
from shiyu.org.identity.deps import start_session
from shiyu.web.page_deps import PagePrincipal, PageRoute, field_errors, render

router = APIRouter(prefix="/account", route_class=PageRoute, include_in_schema=False)



@router.get("/password")
def password_form(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "account/password.html", errors={}, general=None,
                  changed=request.query_params.get("changed") == "1")


@router.post("/password")
def change_password(request: Request, principal: PagePrincipal, current_password: str = Form(""),
                    new_password: str = Form(""), confirm_password: str = Form("")) -> Response:
    try:
        if new_password != confirm_password:
            raise ValidationFailed("password_mismatch", "两次输入的新密码不一致", "The two new passwords differ",
                                   detail={"field": "confirm_password"})
        version = sessions.change_password(request.app.state.session_factory, request.app.state.settings,
                                           principal, current_password, new_password, client_ip(request))
    except ShiyuError as exc:
        general, errors = field_errors(exc, language(request))
        return render(request, "account/password.html", exc.status, errors=errors, general=general, changed=False)
    response = RedirectResponse("/account/password?changed=1", status_code=303)
    start_session(request, response, cast(int, principal.user_id), version)  # change_password found the user
    return response
