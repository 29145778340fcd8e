"""``shiyu import centres FILE [--dry-run]`` and ``shiyu import departments FILE [--dry-run]``: the rows of an
XLSX/CSV file (columns in ``shiyu.org.units.bulk``), all or none, acting as the system (audited). Every
refused row is printed with its reason; a refusal exits with 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shiyu.core.commands import table_imports
from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.tabular import read_table
from shiyu.org.units import bulk

REFUSED = 2


def register(sub: Any) -> None:
    table_imports(sub, {"centres": "综治中心 (区域编码, 名称, 电话)",
                        "departments": "职能部门 (部门编码, 部门名称, 区域编码, 类别, 电话, 管辖区域)"}, _import)


def _import(args: argparse.Namespace) -> int:
    from shiyu.core import pii
    from shiyu.core.commands import load_settings

    settings = load_settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    engine = make_engine(settings.database_url)
    try:
        table = read_table(args.file, args.encoding)
        records = [dict(zip(table.columns, cells, strict=True)) for cells in table.rows]
        with transaction(make_session_factory(engine), principal=Principal.system("cli")) as session:
            report = bulk.import_units(session, Principal.system("cli"), args.kind,
                                       bulk.rows_from_records(args.kind, records, first=2), dry_run=args.dry_run)
    except ShiyuError as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return REFUSED
    finally:
        engine.dispose()
    for row in report.rows:
        for p in row.problems:
            print(f"第 {row.number} 行 / row {row.number}: {p['zh']} / {p['en']}", file=sys.stderr)
    if report.invalid:
        print(f"{report.invalid} 行有问题，未导入任何数据\n{report.invalid} rows have problems; nothing was imported",
              file=sys.stderr)
        return REFUSED
    done = "可导入（未写入）" if args.dry_run else "已导入"
    print(f"{len(report.rows)} 行{done}\n{len(report.rows)} rows {'can be imported' if args.dry_run else 'imported'}")
    return 0
