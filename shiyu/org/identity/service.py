"""Accounts: user and grant management, activation, audited reveal of personal data.

Logging in, tokens and self-service passwords are ``shiyu.org.identity.sessions``; the guard that keeps a
city-wide administrator, and the first administrator, are ``shiyu.org.identity.admins``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shiyu.core import audit
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import blind_hash, mask, personal_columns, reveal_reason
from shiyu.core.scoping import GrantScope, Principal
from shiyu.core.validators import validate_id_number, validate_phone
from shiyu.org.areas.models import Area
from shiyu.org.identity import admins
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.passwords import check_strength, hash_password
from shiyu.org.identity.roles import DEPARTMENT_ROLES, Role, needs_to_hold, permissions_of
from shiyu.org.units.models import Department

# Names that stand for nobody or for the system in timelines and the audit log (anonymous reporters act as
# "public"; jobs and public pages as system principals): no account may carry them, so no account is ever
# mistaken for them, by a person reading the record or by code that still compares names.
RESERVED_USERNAMES = frozenset({
    "public", "anonymous", "nobody", "system", "root", "cli", "deadlines", "demo", "hot_issues", "indicators",
    "login", "outbox", "reporter", "track", "triage", "uploads", "warm-up",
})


def principal_for(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        grants=tuple(GrantScope(g.role, g.area_path, g.department_id) for g in user.grants),
        permissions_of=permissions_of,
        full_name=user.full_name,
    )


def masked_user(user: User) -> dict[str, Any]:
    """A user as every API and page shows it: personal data masked."""
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "is_active": user.is_active,
        "language": user.language,
        "area_path": user.area_path,
        "last_login_at": user.last_login_at,
        "grants": [
            {"id": g.id, "role": g.role, "area_id": g.area_id, "department_id": g.department_id}
            for g in user.grants
        ],
    }
    for attr, kind in personal_columns(User).items():
        data[attr] = mask(kind, getattr(user, attr))
    return data


def list_users(
    session: Session, params: PageParams, *, q: str | None = None, role: str | None = None,
    area_path: str | None = None, phone: str | None = None,
) -> tuple[list[User], int]:
    stmt = select(User).options(selectinload(User.grants)).order_by(User.id)
    if q:
        stmt = stmt.where(User.username.contains(q, autoescape=True))
    if phone:
        stmt = stmt.where(User.phone_hash == blind_hash("phone", phone))
    if role:
        stmt = stmt.where(User.grants.any(Grant.role == role))
    if area_path:
        stmt = stmt.where(User.area_path.startswith(area_path, autoescape=True))
    return paginate(session, stmt, params)


def count_users(session: Session) -> int:
    """Accounts in the caller's scope."""
    return session.scalar(select(func.count(User.id))) or 0


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Usernames by id, read unscoped, to say who acted on a row the caller may see (who proposed or decided
    a boundary) even when that person's account is outside the caller's scope: only ids taken from such rows
    come here, and only the username is read, never personal data."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    stmt = select(User.id, User.username).where(User.id.in_(wanted))
    return {r.id: r.username for r in session.execute(stmt, execution_options={"unscoped": True})}


def get_user(session: Session, user_id: int | None) -> User:
    user = session.scalar(select(User).options(selectinload(User.grants)).where(User.id == user_id))
    if user is None:
        raise NotFound(detail={"object": "user", "id": user_id})
    return user


def _area(session: Session, area_id: int) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    return area


def create_user(
    session: Session, principal: Principal, *, username: str, password: str, home_area_id: int,
    full_name: str | None = None, phone: str | None = None, id_number: str | None = None, language: str = "zh",
) -> User:
    home = _area(session, home_area_id)
    principal.require("user.manage", home.area_path)
    if username.lower() in RESERVED_USERNAMES:
        raise ValidationFailed("username_reserved", "该用户名为系统保留", "This username is reserved",
                               detail={"field": "username"})
    if user_by_username(session, username) is not None:
        raise ValidationFailed(
            "username_taken", "用户名已被使用", "This username is already taken", detail={"field": "username"}
        )
    check_strength(password, username)
    user = User(
        username=username,
        password_hash=hash_password(password),
        area_path=home.area_path,
        full_name=full_name,
        phone=validate_phone(phone) if phone else None,
        id_number=validate_id_number(id_number) if id_number else None,
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def add_grant(
    session: Session, principal: Principal, user: User, role: str, *, area_id: int | None = None,
    department_id: int | None = None,
) -> Grant:
    """Give ``user`` a role. Nobody can hand out more than they hold over that place (no escalation)."""
    try:
        role_enum = Role(role)
    except ValueError as exc:
        raise ValidationFailed("unknown_role", "未知角色", "Unknown role", detail={"field": "role"}) from exc
    if role_enum in DEPARTMENT_ROLES:
        if department_id is None:
            raise ValidationFailed(
                "department_required", "该角色须指定部门", "This role is granted over a department",
                detail={"field": "department_id"},
            )
        dept = session.get(Department, department_id)
        if dept is None:
            raise NotFound(detail={"object": "department", "id": department_id})
        path, area_id = dept.area_path, None
    else:
        if area_id is None:
            raise ValidationFailed(
                "area_required", "该角色须指定区域", "This role is granted over an area", detail={"field": "area_id"}
            )
        path = _area(session, area_id).area_path
    check_grantable(principal, role_enum, path)
    grant = Grant(user=user, role=role_enum.value, area_id=area_id, department_id=department_id, area_path=path)
    session.add(grant)
    session.flush()
    return grant


def check_grantable(principal: Principal, role: Role, path: str) -> None:
    """May ``principal`` hand out ``role`` over ``path``: manage users there and hold what the role needs
    (or ``grant.any``). Shared by single grants and bulk imports."""
    principal.require("user.manage", path)
    if not principal.can("grant.any", path) and not all(principal.can(p, path) for p in needs_to_hold(role)):
        raise Forbidden(
            "grant_exceeds_own", "不能授予超出自身权限的角色", "You cannot grant a role with more rights than you hold"
        )


def remove_grant(session: Session, principal: Principal, user_id: int, grant_id: int) -> None:
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != user_id:
        raise NotFound(detail={"object": "grant", "id": grant_id})
    principal.require("user.manage", grant.area_path)
    admins.check_grant_removal(session, grant)
    session.delete(grant)
    session.flush()


def user_by_username(session: Session, username: str) -> User | None:
    """Unscoped: usernames are unique city-wide, so a taken name must be found wherever its account is."""
    return session.scalar(select(User).options(selectinload(User.grants)).where(User.username == username),
                          execution_options={"unscoped": True})


def update_user(session: Session, principal: Principal, user_id: int, *, is_active: bool | None = None,
                language: str | None = None) -> User:
    """Change an account's state. Deactivating ends all its tokens and page sessions at once and refuses
    its log-ins; the last city-wide administrator cannot be deactivated."""
    user = get_user(session, user_id)
    principal.require("user.manage", user.area_path)
    if language is not None:
        user.language = language
    if is_active is False and user.is_active:
        deactivate(session, user)
    elif is_active:
        user.is_active = True
    session.flush()
    return user


def deactivate(session: Session, user: User) -> None:
    admins.check_deactivation(session, user)
    user.is_active = False
    user.token_version += 1


def set_password(session: Session, user: User, password: str) -> None:
    """An administrator sets someone's password (the CLI): the rule applies and every session ends."""
    check_strength(password, user.username)
    user.password_hash = hash_password(password)
    user.token_version += 1


def reveal(session: Session, principal: Principal, user_id: int, field: str, reason: str) -> str | None:
    """The clear value of one personal-data field, for a caller allowed to see it who says why.
    Every reveal is in the audit log with its reason."""
    kinds = personal_columns(User)
    if field not in kinds:
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field})
    reason = reveal_reason(reason)
    user = get_user(session, user_id)
    principal.require("pii.reveal", user.area_path)
    audit.record(
        session, "reveal", "user_account", user.id, area_path=user.area_path, reason=reason, after={"field": field},
    )
    value: str | None = getattr(user, field)
    return value


def liaisons(session: Session, department_ids: list[int]) -> dict[int, list[str]]:
    """Usernames of the handlers granted over each department (as far as the caller may see users)."""
    rows = session.execute(
        select(Grant.department_id, User.username).join(Grant.user).where(Grant.department_id.in_(department_ids))
    ).all()
    out: dict[int, list[str]] = {d: [] for d in department_ids}
    for dept_id, username in rows:
        out[cast(int, dept_id)].append(username)  # the IN filter leaves no NULL department
    return out
