"""``shiyu calendar import FILE [--year YEAR] [--dry-run]``: a year's holidays and make-up working days from
the State Council's notice (its lines as published), a CSV or a JSON file (``shiyu.org.calendar.notice``),
replacing that year's overrides, acting as the system (audited). A refusal names its line and exits with 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shiyu.core.commands import command_group
from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.calendar import notice, service

REFUSED = 2
KIND_ZH = {"holiday": "放假", "workday": "上班"}


def register(sub: Any) -> None:
    cal = command_group(sub, "calendar", "the working calendar")
    parser = cal.add_parser("import", help="a year's 放假安排 from the notice's lines, CSV or JSON (docs/calendar.md)")
    parser.add_argument("file", type=Path)
    parser.add_argument("--year", type=int, help="the year, when the dates do not carry it")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    from shiyu.core.commands import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        parsed = notice.parse(args.file.read_text(encoding="utf-8-sig"), args.year)
        with transaction(make_session_factory(engine), principal=Principal.system("cli")) as session:
            result = service.import_year(session, Principal.system("cli"), parsed.year, parsed.ranges,
                                         dry_run=args.dry_run)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"无法读取文件 / cannot read the file: {exc}", file=sys.stderr)
        return REFUSED
    except ShiyuError as exc:
        print(f"{exc.message('zh')}\n{exc.message('en')}", file=sys.stderr)
        return REFUSED
    finally:
        engine.dispose()
    for r in result.ranges:
        end = f" – {r.end.isoformat()}" if r.end and r.end != r.start else ""
        print(f"{r.start.isoformat()}{end}  {KIND_ZH[r.kind.value]}  {r.name_zh}")
    done = "可导入（未写入）/ would be written" if result.dry_run else "已写入 / written"
    print(f"{result.year}: {result.changed} 天变更, {result.removed} 天取消 / {result.changed} days set, "
          f"{result.removed} removed — {done}")
    return 0
