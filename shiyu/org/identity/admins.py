"""City-wide administrators: there is always one, and the first one is made from the command line.

A city-wide administrator is an active account holding the ``admin`` role over a root of the area tree
(an area without a parent: the city). Only such an account can grant ``admin`` at the top, so a system
that lost its last one could not be administered again without SQL (security review S0). Hence:

- the last active city-wide administrator of a root can neither lose that grant nor be deactivated,
  whoever asks and through whichever door (API, pages, CLI): 409 ``last_city_admin``;
- ``shiyu users create-admin`` makes one (``bootstrap``), or with ``--reset`` gives an existing account a
  new password, activates it and makes sure it holds the grant — the way back in when every administrator
  password is lost.

The check locks the rows it counts (``FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time), so two
administrators deactivating each other at the same moment cannot both succeed.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shiyu.core.errors import Conflict, ValidationFailed
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.passwords import check_strength, hash_password
from shiyu.org.identity.roles import Role

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,64}$"
UNSCOPED = {"unscoped": True}


def root_areas(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.parent_id.is_(None)).order_by(Area.id),
                                execution_options=UNSCOPED))


def check_grant_removal(session: Session, grant: Grant) -> None:
    if grant.role == Role.ADMIN and grant.area_id is not None:
        _keep_one(session, grant.user_id, {grant.area_id})


def check_deactivation(session: Session, user: User) -> None:
    _keep_one(session, user.id, {g.area_id for g in user.grants if g.role == Role.ADMIN and g.area_id is not None})


def _keep_one(session: Session, user_id: int, area_ids: set[int]) -> None:
    """Refuse when ``user_id`` is the only active administrator of one of these areas that is a root."""
    if not area_ids:
        return
    holders = session.execute(
        select(Grant.area_id, Grant.user_id).join(User, User.id == Grant.user_id).join(Area, Area.id == Grant.area_id)
        .where(Grant.role == Role.ADMIN, Grant.area_id.in_(area_ids), Area.parent_id.is_(None), User.is_active)
        .with_for_update(of=[Grant, User]),
        execution_options=UNSCOPED,
    ).all()
    for area_id in {a for a, u in holders if u == user_id}:
        if not any(a == area_id and u != user_id for a, u in holders):
            raise Conflict(
                "last_city_admin",
                "这是最后一位全市系统管理员：不能移除其管理员角色，也不能停用该账号。请先为另一位用户授予全市管理员角色。",
                "This is the last city-wide administrator: its admin role cannot be removed nor the account "
                "deactivated. First make another user a city-wide administrator.",
                detail={"user_id": user_id, "area_id": area_id},
            )


def bootstrap(session: Session, username: str, password: str, *, reset: bool = False) -> tuple[User, bool]:
    """Make ``username`` a city-wide administrator: a new account (home: the first root area) with the admin
    role over every root area, or with ``reset`` an existing one, which gets the new password (ending its
    sessions), is activated and gets any admin grant over a root it lacks. Returns (user, created)."""
    roots = root_areas(session)
    if not roots:
        raise ValidationFailed(
            "no_areas",
            "还没有任何区域：管理员的权限以区域为范围。"
            "请先导入本市区划（shiyu import areas 文件.geojson），再创建管理员。",
            "There are no areas yet, and an administrator's rights are over an area: import the city's areas "
            "first (shiyu import areas FILE.geojson), then create the administrator.",
        )
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise ValidationFailed(
            "invalid_username", "用户名须为3–64个字母、数字或 _ . -",
            "A username is 3–64 letters, digits or _ . -", detail={"field": "username"},
        )
    check_strength(password, username)
    user = session.scalar(select(User).options(selectinload(User.grants)).where(User.username == username),
                          execution_options=UNSCOPED)
    created = user is None
    if user is None:
        user = User(username=username, password_hash=hash_password(password), area_path=roots[0].area_path)
        session.add(user)
    elif not reset:
        raise ValidationFailed(
            "username_taken",
            "用户名 {username} 已存在。要重设其密码、启用它并确保它是全市管理员，请加 --reset。",
            "The username {username} exists already. To reset its password, activate it and make sure it is a "
            "city-wide administrator, add --reset.", detail={"field": "username"}, username=username,
        )
    else:
        user.password_hash = hash_password(password)
        user.is_active = True
        user.token_version += 1
    held = {g.area_id for g in user.grants if g.role == Role.ADMIN}
    for root in roots:
        if root.id not in held:
            user.grants.append(Grant(role=Role.ADMIN.value, area_id=root.id, area_path=root.area_path))
    session.flush()
    return user, created
