"""What the other people in a journey do off-screen: staff actions applied through the workflow engine as the
named user, and photos stored as the attachments API stores them (real files, so pages can show them)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shiyu.cases import attachments
from shiyu.cases.models import Case
from shiyu.cases.workflow import engine
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from tests.cases.case_fixtures import jpeg_bytes

SH = ZoneInfo("Asia/Shanghai")


def _as(s: Any, username: str) -> Principal:
    s.info["principal"] = Principal.system("journey")
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None, username
    s.info["principal"] = principal = principal_for(user)
    return principal


def photo(world: dict, username: str, colour: tuple[int, int, int] = (30, 120, 200)) -> int:
    """A photo uploaded by ``username`` (not yet part of a case); its attachment id."""
    with world["factory"]() as s:
        principal = _as(s, username)
        data, file_type = attachments.read_limited(iter([jpeg_bytes((320, 240), colour)]))
        stored = attachments.store_upload(s, principal, LocalStorage(world["settings"].storage_dir), "photo.jpg",
                                          data, file_type)
        s.commit()
        return stored.id


def act(world: dict, username: str, code: str, action: str, *, note: str = "", fields: dict | None = None,
        attachment_ids: list[int] | None = None) -> None:
    """``username`` applies ``action`` to the case ``code`` at its current version."""
    with world["factory"]() as s:
        principal = _as(s, username)
        s.info["principal"] = Principal.system("journey")
        case = s.scalar(select(Case).where(Case.tracking_code == code))
        assert case is not None, code
        s.info["principal"] = principal
        engine.apply(s, principal, case.id, action, engine.ActionInput(
            expected_version=case.version, note=note, fields=fields or {}, attachment_ids=attachment_ids or []), SH)
        s.commit()
