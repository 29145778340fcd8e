"""``shiyu demo [--seed N] [--size full|small] [--if-absent] [--database-url URL]``: build the demo city 鹭江市.

Only in demo mode (``SHIYU_DEMO_MODE=1``, which ``make run`` sets): the demo accounts share a published
password, so they must never appear in a real deployment's database.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import inspect

from shiyu.core import pii
from shiyu.core.db import make_engine, make_session_factory
from shiyu.demo.build import CITY_EXISTS, DEFAULT_SEED, DemoRefused, build, login_places
from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE
from shiyu.org.identity.passwords import DEMO_PASSWORD
from shiyu.org.identity.roles import ROLE_LABELS

SIZES = {"full": FULL_SIZE, "small": SMALL_SIZE}


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build the demo city 鹭江市 with demo accounts (demo mode only)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"same seed, same city (default {DEFAULT_SEED})")
    p.add_argument("--size", choices=sorted(SIZES), default="full",
                   help="full: ~2,000 grids and 20,000 cases (default); small: 40 grids, for quick checks")
    p.add_argument("--if-absent", action="store_true", help="do nothing (and succeed) when the demo city exists")
    p.add_argument("--database-url", help="database to build into (default: SHIYU_DATABASE_URL)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from shiyu.core.commands import load_settings

    settings = load_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    if not settings.demo_mode:
        print("演示城市只能在演示模式下创建（SHIYU_DEMO_MODE=1） / the demo city is built in demo mode only "
              "(SHIYU_DEMO_MODE=1)", file=sys.stderr)
        return 2
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("area"):
            print("数据库尚未初始化，请先运行 shiyu db upgrade / the database has no schema yet: run "
                  "`shiyu db upgrade` first", file=sys.stderr)
            return 1
        factory = make_session_factory(engine)
        try:
            report = build(factory, seed=args.seed, size=SIZES[args.size], echo=print, tz=settings.tz)
        except DemoRefused as exc:
            if exc.code == CITY_EXISTS[0] and args.if_absent:
                print("演示城市已存在，无需创建 / the demo city already exists; nothing to do")
                _print_logins(factory)
                return 0
            print(f"{exc.zh} / {exc.en}", file=sys.stderr)
            return 1
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        print(f"演示城市已建成，用时{report.seconds:.1f}秒 / demo city built in {report.seconds:.1f} s: {counts}")
        _print_logins(factory)
        return 0
    finally:
        engine.dispose()


def _print_logins(factory: Any) -> None:
    print(f"\n演示账号（密码均为 {DEMO_PASSWORD}） / demo logins (password {DEMO_PASSWORD} for all):")
    for login, place in login_places(factory):
        zh, en = ROLE_LABELS[login.role]
        print(f"  {login.username:<22} {zh} / {en:<20} {place or login.where_zh} / {login.where_en}")
