"""Importing people in bulk: dry run, confirmation, and the one download of the activation codes.

The flow is the same from the browser and the API: ``start`` reads the rows and answers the report of every
row (nothing is created, the rows are kept encrypted in a ``UserImport``); ``confirm`` checks them all again
(someone may have taken a phone number since) and, when no row that is not excluded has a problem, creates
every account, grant and activation code in one transaction — or nothing at all. ``take_codes`` hands the
codes over once and wipes them. The command line (``shiyu users import``) does the same in one step.

No password is hashed here (argon2 costs ~0.2 s per password, half an hour for a city's grid workers): an
imported account has an unusable password until its holder activates it with the code
(``shiyu.org.identity.bulk.activation``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Table, func, insert, select, update
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.errors import NotFound, ShiyuError, ValidationFailed
from shiyu.core.pii import blind_hash, with_blind_index
from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table as Sheet
from shiyu.core.timeutil import local, utcnow
from shiyu.org.identity.bulk.models import ActivationCode, UserImport
from shiyu.org.identity.bulk.rows import UNSCOPED, Checked, Row, check, chunks
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.service import get_user

ACTIVATION_DAYS = 14
"""How long a code opens its account: long enough to reach every grid worker through their community."""
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read off paper and typed on phones
CODE_LENGTH = 12  # 60 bits: with the expiry and the log-in throttle, not guessable
UNUSABLE_PASSWORD = "!activation-pending"
"""Not an argon2 hash, so no password verifies against it (``passwords.verify_password``)."""
CODE_COLUMNS = ["用户名", "姓名", "区域", "激活码", "有效期至"]
DRAFT_HOURS = 24
"""How long the rows of an import that was never confirmed are kept (they are personal data)."""


class ImportHasErrors(ShiyuError):
    """The confirmation found rows with problems that were not excluded: nothing was written."""

    status = 422
    code = "import_has_errors"
    zh = "有 {count} 行存在问题，未导入任何账号；请修改文件或排除这些行"
    en = "{count} rows have problems; nothing was imported. Fix the file or exclude those rows"


@dataclass
class Report:
    """What a dry run or a refused confirmation answers: every row with its problems."""

    import_id: int | None
    file_name: str
    rows: list[Checked]

    @property
    def invalid(self) -> list[Checked]:
        return [c for c in self.rows if not c.ok]

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {
            "import_id": self.import_id, "file_name": self.file_name, "total": len(self.rows),
            "valid": len(self.rows) - len(self.invalid), "invalid": len(self.invalid),
            "rows": [{
                "row": c.row.number, "username": c.row.username or None, "role": c.role.value if c.role else None,
                "place": c.place or None, "ok": c.ok,
                "problems": [{"code": p.code, "field": p.field, "message": p.message(lang)} for p in c.problems],
            } for c in self.rows],
        }


def normalise_code(code: str) -> str:
    return code.upper().replace("-", "").replace(" ", "").strip()


def code_hash(code: str) -> str:
    """Keyed hash (the blind-index key), so codes cannot be found from a copy of the database."""
    return blind_hash("text", "activation:" + normalise_code(code))


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def start(session: Session, principal: Principal, file_name: str, rows: list[Row]) -> Report:
    """The dry run: every row checked, the rows kept (encrypted) for the confirmation."""
    if principal.user_id is None:
        raise ValidationFailed("no_importer", "导入须由登录的管理员发起", "An import is started by a logged-in user")
    principal.require("user.manage")
    checked = check(session, principal, rows)
    draft = UserImport(created_by=principal.user_id, file_name=file_name[:200], row_count=len(rows),
                       rows=json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
    session.add(draft)
    session.flush()
    return Report(draft.id, draft.file_name, checked)


def get_import(session: Session, principal: Principal, import_id: int) -> UserImport:
    """An import is its creator's only: anyone else's answers 404, like one that does not exist."""
    draft = session.get(UserImport, import_id)
    if draft is None or draft.created_by != principal.user_id:
        raise NotFound(detail={"object": "user_import", "id": import_id})
    return draft


def report(session: Session, principal: Principal, import_id: int) -> Report:
    """The dry-run report again (rows checked anew against the database as it is now)."""
    draft = get_import(session, principal, import_id)
    return Report(draft.id, draft.file_name, check(session, principal, _rows(draft)))


def confirm(session: Session, principal: Principal, import_id: int, exclude: set[int], tz: ZoneInfo) -> UserImport:
    """Create the accounts of every row not in ``exclude`` (row numbers), all or none."""
    draft = get_import(session, principal, import_id)
    if draft.status != "draft":
        raise ValidationFailed("already_imported", "该文件已导入", "This file has already been imported")
    checked = check(session, principal, _rows(draft))
    kept = [c for c in checked if c.row.number not in exclude]
    bad = [c for c in kept if not c.ok]
    if bad:
        raise ImportHasErrors(count=len(bad), detail={"rows": [c.row.number for c in bad]})
    if not kept:
        raise ValidationFailed("nothing_to_import", "没有可导入的行", "No row is left to import")
    codes = create_accounts(session, kept, draft.id, tz)
    draft.status, draft.rows, draft.imported_count = "imported", None, len(kept)
    draft.imported_at = utcnow()
    draft.codes = json.dumps(codes, ensure_ascii=False)
    session.flush()
    return draft


def take_codes(session: Session, principal: Principal, import_id: int) -> Sheet:
    """The codes of a confirmed import, once: they are wiped as they are handed over, and the download is
    in the audit log (a lost sheet means new codes, not a second copy)."""
    draft = get_import(session, principal, import_id)
    if draft.codes is None:
        if draft.codes_downloaded_at is not None:
            raise ShiyuError("codes_already_downloaded", "激活码已下载过，不再提供",
                             "The codes have been downloaded already", status=410)
        raise ValidationFailed("not_imported", "该文件尚未导入", "This file has not been imported yet")
    codes = json.loads(draft.codes)
    draft.codes, draft.codes_downloaded_at = None, utcnow()
    audit.record(session, "download_codes", "user_import", draft.id, after={"count": len(codes)})
    session.flush()
    return codes_table(codes)


def codes_table(codes: list[dict[str, str]]) -> Sheet:
    return Sheet(CODE_COLUMNS, [[c["username"], c["full_name"], c["place"], c["code"], c["expires"]] for c in codes])


def create_accounts(session: Session, rows: list[Checked], import_id: int | None,
                    tz: ZoneInfo) -> list[dict[str, str]]:
    """Accounts, grants and codes for rows without problems. Returns the codes in the clear, the only time
    they exist.

    Written with three multi-row Core INSERTs rather than the ORM's unit of work (which costs ~3 ms a row,
    too slow for a city's ten thousand): so the blind indexes are filled (``pii.with_blind_index``) and the
    audit entries written (``audit.created``) here, as the flush listeners would; personal data is still
    encrypted by its column type."""
    names = _usernames(session, rows)
    now = utcnow()
    expires = now + timedelta(days=ACTIVATION_DAYS)
    user_rows = [with_blind_index(User, {
        "username": name, "password_hash": UNUSABLE_PASSWORD, "area_path": c.home.area_path,
        "full_name": c.row.full_name, "phone": c.phone, "id_number": c.id_number or None, "language": "zh",
        "is_active": True, "token_version": 0, "created_at": now, "updated_at": now,
    }) for c, name in zip(rows, names, strict=True) if c.home is not None]
    users = _table(User)
    ids = list(session.execute(insert(users).returning(users.c.id, sort_by_parameter_order=True),
                               user_rows).scalars())
    grant_rows, code_rows, out = [], [], []
    for c, user_id, values in zip(rows, ids, user_rows, strict=True):
        assert c.role is not None
        if c.department is not None:
            grant_rows.append({"user_id": user_id, "role": c.role.value, "area_id": None,
                               "department_id": c.department.id, "area_path": c.department.area_path})
        else:
            assert c.area is not None
            grant_rows.append({"user_id": user_id, "role": c.role.value, "area_id": c.area.id,
                               "department_id": None, "area_path": c.area.area_path})
        code = new_code()
        code_rows.append({"user_id": user_id, "code_hash": code_hash(code), "expires_at": expires, "used_at": None,
                          "import_id": import_id})
        out.append({"username": values["username"], "full_name": c.row.full_name, "place": c.place, "code": code,
                    "expires": local(expires, tz).strftime("%Y-%m-%d")})
    grants = _table(Grant)
    grant_ids = list(session.execute(insert(grants).returning(grants.c.id, sort_by_parameter_order=True),
                                     grant_rows).scalars())
    codes = _table(ActivationCode)
    session.execute(insert(codes), code_rows)
    audit.write(session, [
        *(audit.created(session, users, i, v) for i, v in zip(ids, user_rows, strict=True)),
        *(audit.created(session, grants, i, v) for i, v in zip(grant_ids, grant_rows, strict=True)),
        *(audit.created(session, codes, v["user_id"], v) for v in code_rows),
    ])
    return out


class AlreadyActivated(ShiyuError):
    status = 409
    code = "account_already_activated"
    zh = "该账号已设置密码，不需要激活码"
    en = "This account has a password already; it needs no activation code"


def awaiting_activation(user: User) -> bool:
    """An imported account whose holder has not set a password with a code yet."""
    return user.password_hash == UNUSABLE_PASSWORD


def reissue_code(session: Session, principal: Principal, user_id: int, tz: ZoneInfo) -> dict[str, str]:
    """A new one-time code for an imported account whose holder lost the sheet and has not activated yet: the
    old code stops working, the new one runs ``ACTIVATION_DAYS`` from now. Answered once, in the clear; the
    reissue is in the audit log (who, for whom, when)."""
    user = get_user(session, user_id)
    principal.require("user.manage", user.area_path)
    if not awaiting_activation(user):
        raise AlreadyActivated(detail={"user_id": user.id})
    code, expires = new_code(), utcnow() + timedelta(days=ACTIVATION_DAYS)
    pending = session.get(ActivationCode, user.id)
    if pending is None:
        session.add(ActivationCode(user_id=user.id, code_hash=code_hash(code), expires_at=expires))
    else:
        pending.code_hash, pending.expires_at, pending.used_at = code_hash(code), expires, None
    audit.record(session, "reissue_code", "user_account", user.id, area_path=user.area_path)
    session.flush()
    return {"username": user.username, "code": code, "expires": local(expires, tz).strftime("%Y-%m-%d")}


def forget_stale(session: Session) -> int:
    """The hourly clean-up: rows of drafts nobody confirmed within ``DRAFT_HOURS``, and codes nobody
    downloaded before they expired, are personal data or secrets kept for nothing. Idempotent."""
    now = utcnow()
    drafts = _changed(session, update(UserImport).where(
        UserImport.status == "draft", UserImport.rows.is_not(None),
        UserImport.created_at < now - timedelta(hours=DRAFT_HOURS)).values(rows=None))
    codes = _changed(session, update(UserImport).where(
        UserImport.codes.is_not(None),
        UserImport.imported_at < now - timedelta(days=ACTIVATION_DAYS)).values(codes=None))
    return drafts + codes


def _usernames(session: Session, rows: list[Checked]) -> list[str]:
    """The username of each row: the one given, or a new ``sy`` + 8 digits one (digits are easy on a phone's
    keyboard), unique against every account."""
    given = {c.row.username.lower() for c in rows if c.row.username}
    wanted = sum(1 for c in rows if not c.row.username)
    fresh: list[str] = []
    while len(fresh) < wanted:
        candidates = {f"sy{int.from_bytes(os.urandom(4)) % 10**8:08d}" for _ in range(wanted - len(fresh))}
        candidates -= given | set(fresh)
        taken = {n.lower() for chunk in chunks(sorted(candidates)) for n in session.scalars(
            select(User.username).where(func.lower(User.username).in_(chunk)), execution_options=UNSCOPED)}
        fresh.extend(sorted(candidates - taken))
    it = iter(fresh)
    return [c.row.username or next(it) for c in rows]


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _changed(session: Session, statement: Any) -> int:
    return cast(CursorResult[Any], session.execute(statement)).rowcount or 0


def _rows(draft: UserImport) -> list[Row]:
    if draft.rows is None:
        raise ValidationFailed("already_imported", "该文件已导入", "This file has already been imported")
    return [Row(**r) for r in json.loads(draft.rows)]


