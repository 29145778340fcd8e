"""``shiyu report weekly --area CODE [--week YYYY-Www] --out FILE`` and ``shiyu report monthly --area CODE
[--month YYYY-MM] --out FILE``: one report, its format chosen by the file's suffix (.xlsx or .docx).

The command acts as the system by default (whoever runs commands on the server already holds the database);
``--user NAME`` makes it act with that user's grants instead, as the web page does. Every problem the user
can fix — an unknown area code, a badly written week, an area outside the user's grants, an unwritable
file — is one line in Chinese and English on standard error with exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shiyu.reports.periods import Kind

EXIT_USAGE = 2


def register(sub: Any) -> None:
    report = sub.add_parser("report", help="周报/月报: weekly and monthly reports of an area (.xlsx or .docx)")
    kinds = report.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    for kind, flag, example, help_text in (
        (Kind.WEEKLY, "--week", "2026-W48", "周报: the weekly report (ISO week, Monday to Sunday)"),
        (Kind.MONTHLY, "--month", "2026-11", "月报: the monthly report"),
    ):
        p = kinds.add_parser(kind.value, help=help_text)
        p.add_argument("--area", required=True, metavar="CODE", help="区划代码 the area's division code")
        p.add_argument(flag, dest="period", metavar=example, help=f"the period, e.g. {example} (default: the last "
                       "complete one)")
        p.add_argument("--out", required=True, type=Path, metavar="FILE", help="output file: .xlsx or .docx")
        p.add_argument("--user", metavar="NAME", help="act with this user's grants (default: the system)")
        p.set_defaults(handler=_run, kind=kind)


def _fail(zh: str, en: str) -> int:
    print(f"错误：{zh}\nerror: {en}", file=sys.stderr)
    return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from shiyu.core.errors import ShiyuError

    try:
        return _make(args)
    except ShiyuError as exc:
        return _fail(exc.zh, exc.en)


def _make(args: argparse.Namespace) -> int:
    from shiyu.cases.indicators import facts
    from shiyu.core import pii
    from shiyu.core.commands import load_settings
    from shiyu.core.db import make_engine, make_session_factory
    from shiyu.core.scoping import Principal
    from shiyu.core.timeutil import utcnow
    from shiyu.org.identity import service as identity
    from shiyu.reports import export, periods

    fmt = export.format_of(str(args.out))
    settings = load_settings()
    tz = settings.tz
    period = (periods.parse(args.kind, args.period) if args.period
              else periods.last_complete(args.kind, utcnow().astimezone(tz).date()))
    if not args.out.parent.is_dir():
        return _fail(f"目录不存在：{args.out.parent}", f"no such directory: {args.out.parent}")
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        print(f"正在更新统计数据… / refreshing the figures… ({period.label})", file=sys.stderr)
        facts.refresh_all(factory, tz)
        with factory() as s:
            principal = Principal.system("cli")
            s.info["principal"] = principal
            if args.user:
                user = identity.user_by_username(s, args.user)
                if user is None or not user.is_active:
                    return _fail(f"没有启用的用户“{args.user}”", f"no active user '{args.user}'")
                principal = identity.principal_for(user)
                s.info["principal"] = principal
            print("正在生成报告… / writing the report…", file=sys.stderr)
            report, content = export.make(s, principal, tz, args.area, period, fmt)
    finally:
        engine.dispose()
    try:
        args.out.write_bytes(content)
    except OSError as exc:
        return _fail(f"无法写入 {args.out}：{exc.strerror}", f"cannot write {args.out}: {exc.strerror}")
    print(f"已生成 {args.out}：{report.title}（{len(content) // 1024 + 1} KB）")
    return 0
