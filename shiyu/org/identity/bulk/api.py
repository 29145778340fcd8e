"""People in bulk over the API: dry run, confirmation, the one download of the codes.

``POST /users/imports`` takes the rows as JSON (keys: the Chinese column names of the file or the field
names) and answers the report of every row; ``…/confirm`` creates the accounts (all or none: 422
``import_has_errors`` names the rows still wrong); ``…/codes`` answers the activation codes as XLSX once.
Only the importing user reaches an import; every row is checked against that user's grants.
``POST /auth/activate`` is the first log-in of an imported account (``activation``).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shiyu.core.http import CurrentPrincipal, Db, client_ip, language
from shiyu.core.tabular import xlsx_bytes
from shiyu.org.identity import tokens
from shiyu.org.identity.bulk import activation, rows, service
from shiyu.org.identity.schemas import TokenOut

router = APIRouter(tags=["identity"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportIn(BaseModel):
    file_name: str = Field("api", max_length=200)
    rows: list[dict[str, str | int | None]] = Field(
        max_length=rows.MAX_ROWS,
        description="one object per person: 姓名/full_name, 手机/phone, 身份证号/id_number, 角色/role (code or "
                    "Chinese label), 区域编码/area_code or 部门/department, optionally 用户名/username")


class ConfirmIn(BaseModel):
    exclude: list[int] = Field(default_factory=list, description="row numbers to leave out")


@router.post("/users/imports", status_code=201,
             summary="Check people to import (dry run): a report per row; nothing is created yet")
def start_import(body: ImportIn, request: Request, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    report = service.start(db, principal, body.file_name, rows.rows_from_dicts(body.rows))
    return report.as_dict(language(request))


@router.post("/users/imports/{import_id}/confirm",
             summary="Create the accounts of an import, all or none (422 import_has_errors names bad rows)")
def confirm_import(import_id: int, body: ConfirmIn, request: Request, db: Db,
                   principal: CurrentPrincipal) -> dict[str, Any]:
    tz = ZoneInfo(request.app.state.settings.timezone)
    done = service.confirm(db, principal, import_id, set(body.exclude), tz)
    return {"import_id": done.id, "imported": done.imported_count,
            "codes": f"/api/v1/users/imports/{done.id}/codes"}


class ReissuedCode(BaseModel):
    username: str
    code: str = Field(description="the new one-time code, shown only in this answer")
    expires: str = Field(description="last day it opens the account (city date)")


@router.post("/users/{user_id}/activation-code", response_model=ReissuedCode,
             summary="A new activation code for an imported account not yet activated (the old one stops); audited")
def reissue_code(user_id: int, request: Request, db: Db, principal: CurrentPrincipal) -> ReissuedCode:
    return ReissuedCode(**service.reissue_code(db, principal, user_id, ZoneInfo(request.app.state.settings.timezone)))


@router.get("/users/imports/{import_id}/codes", response_class=Response,
            summary="The activation codes of a confirmed import as XLSX, once (then 410); audited")
def import_codes(import_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    table = service.take_codes(db, principal, import_id)
    return Response(xlsx_bytes(table), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="activation-codes-{import_id}.xlsx"',
        "Cache-Control": "no-store"})


class ActivateIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=32)
    new_password: str = Field(min_length=1, max_length=256,
                              description="at least 10 characters, 5 different ones; not containing the username; "
                                          "not a common password")


@router.post("/auth/activate", response_model=TokenOut,
             summary="First log-in of an imported account: username + one-time code + a new password → a token "
                     "(wrong, used or expired codes answer alike and are throttled: 401/429)")
def activate(body: ActivateIn, request: Request) -> TokenOut:
    settings = request.app.state.settings
    result = activation.activate(request.app.state.session_factory, settings, body.username, body.code,
                                 body.new_password, client_ip(request))
    token = tokens.issue(settings.secret_key, result.user_id, result.token_version, "access",
                         settings.access_token_minutes)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)
