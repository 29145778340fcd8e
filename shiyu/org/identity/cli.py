"""``shiyu users …``: accounts from the command line, above all the first administrator.

- ``create-admin --username NAME --password-stdin [--reset]``: a city-wide administrator (admin over every
  root area; ``shiyu.org.identity.admins.bootstrap``). Needs the areas imported first.
- ``list``: every account, its state and its roles.
- ``set-password USERNAME --password-stdin``: a new password (the rule applies; its sessions end).
- ``deactivate USERNAME``: its sessions end and its log-ins are refused (never the last city-wide admin).
- ``import FILE [--dry-run] [--codes OUT.xlsx]``: people in bulk (``shiyu.org.identity.bulk.cli``).

Passwords come from standard input, never from the command line, where anyone on the machine could read
them in the process list; typed at a terminal they are asked twice without echo. The commands act as the
system (``Principal.system("cli")``), so every change is in the audit log. A refusal exits with 2 and says
why in Chinese and English.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import NotFound, ShiyuError, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.org.identity import admins, service
from shiyu.org.identity.bulk import cli as bulk_cli
from shiyu.org.identity.models import User

REFUSED = 2


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="accounts: the first administrator, passwords, deactivation")
    cmds = users.add_subparsers(dest="users_command", required=True)
    create = cmds.add_parser("create-admin", help="create (or with --reset restore) a city-wide administrator")
    create.add_argument("--username", required=True)
    create.add_argument("--password-stdin", action="store_true", required=True,
                        help="read the password from standard input")
    create.add_argument("--reset", action="store_true",
                        help="the account exists: set its password, activate it, make sure it is a city-wide admin")
    create.set_defaults(handler=_create_admin)
    listing = cmds.add_parser("list", help="every account with its state and roles")
    listing.set_defaults(handler=_list)
    password = cmds.add_parser("set-password", help="give an account a new password (its sessions end)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", required=True,
                          help="read the password from standard input")
    password.set_defaults(handler=_set_password)
    deactivate = cmds.add_parser("deactivate", help="end an account's sessions and refuse its log-ins")
    deactivate.add_argument("username")
    deactivate.set_defaults(handler=_deactivate)
    bulk_cli.add_commands(cmds, _run)


def _run(action: Callable[[Session], str]) -> int:
    from shiyu.core import pii
    from shiyu.core.commands import load_settings
    from shiyu.org.identity import passwords

    settings = load_settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    passwords.configure(settings.password_time_cost, settings.password_memory_kib)
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine), principal=Principal.system("cli")) as session:
            message = action(session)
    except ShiyuError as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return REFUSED
    finally:
        engine.dispose()
    print(message)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("新密码 / new password: ")
        if getpass.getpass("再输入一次 / once more: ") != first:
            raise ValidationFailed("password_mismatch", "两次输入的密码不一致", "The two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user(session: Session, username: str) -> Any:
    user = service.user_by_username(session, username)
    if user is None:
        raise NotFound("no_such_user", "没有用户名为 {username} 的账号", "There is no account named {username}",
                       username=username)
    return user


def _create_admin(args: argparse.Namespace) -> int:
    def create(session: Session) -> str:
        user, created = admins.bootstrap(session, args.username, _read_password(), reset=args.reset)
        places = "、".join(a.name for a in admins.root_areas(session))
        if created:
            return (f"已创建全市系统管理员 {user.username}（管理范围：{places}）。\n"
                    f"Created the city-wide administrator {user.username} (over: {places}).")
        return (f"已重设 {user.username} 的密码并启用，其为全市系统管理员（管理范围：{places}）；其原有登录均已失效。\n"
                f"Reset the password of {user.username}, activated it and made sure it is a city-wide administrator "
                f"(over: {places}); its earlier log-ins have ended.")

    return _run(create)


def _set_password(args: argparse.Namespace) -> int:
    def change(session: Session) -> str:
        user = _user(session, args.username)
        service.set_password(session, user, _read_password())
        return (f"已为 {user.username} 设置新密码，其原有登录均已失效。\n"
                f"{user.username} has a new password; its earlier log-ins have ended.")

    return _run(change)


def _deactivate(args: argparse.Namespace) -> int:
    def deactivate(session: Session) -> str:
        user = _user(session, args.username)
        if user.is_active:
            service.deactivate(session, user)
        return (f"账号 {user.username} 已停用，其所有登录均已失效。\n"
                f"The account {user.username} is deactivated; all its log-ins have ended.")

    return _run(deactivate)


def _list(_args: argparse.Namespace) -> int:
    def listing(session: Session) -> str:
        users = session.scalars(select(User).options(selectinload(User.grants)).order_by(User.username)).all()
        names = {a.id: a.name for a in session.scalars(
            select(Area).where(Area.id.in_({g.area_id for u in users for g in u.grants if g.area_id})))}
        lines = ["用户名 username\t状态 state\t角色 roles"]
        for u in users:
            roles = ", ".join(f"{g.role}@{names.get(g.area_id, '') if g.area_id else f'department {g.department_id}'}"
                              for g in u.grants)
            lines.append(f"{u.username}\t{'启用 active' if u.is_active else '停用 inactive'}\t{roles or '—'}")
        lines.append(f"共 {len(users)} 个账号 / {len(users)} accounts")
        return "\n".join(lines)

    return _run(listing)
