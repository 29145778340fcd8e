"""``shiyu import persons|houses|units FILE [--dry-run]``: a register extract from an XLSX/CSV file (columns in
``shiyu.registry.bulk.rows``). Every row is checked and every problem printed with its row; nothing is
written unless no row has one (all or nothing). Acts as the system (audited); a refusal exits with 2."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shiyu.core.commands import table_imports
from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.tabular import read_table
from shiyu.registry.bulk import rows as bulk_rows
from shiyu.registry.bulk import service

REFUSED = 2
HELP = {"persons": "实有人口 (姓名, 身份证号, 手机, 民族, 人员类型, 网格编码, 小区/道路, 楼栋, 单元, 户室 …)",
        "houses": "实有房屋 (网格编码, 小区/道路, 楼栋, 单元, 户室, 用途, 面积, 经度, 纬度 …)",
        "units": "实有单位 (统一社会信用代码, 名称, 类型, 网格编码, 地址, 法定代表人, 从业人数, 场所类型 …)"}


def register(sub: Any) -> None:
    table_imports(sub, HELP, _import)


def _progress(phase: str, done: int, total: int) -> None:
    """A city's file takes minutes: say how far the import is."""
    label = {"check": ("已检查", "checked"), "write": ("已写入", "written")}[phase]
    print(f"{label[0]} {done}/{total} 行 / {label[1]} {done}/{total} rows", file=sys.stderr, flush=True)


def _import(args: argparse.Namespace) -> int:
    from shiyu.core import pii
    from shiyu.core.commands import load_settings

    settings = load_settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    engine = make_engine(settings.database_url)
    system = Principal.system("cli")
    try:
        rows = bulk_rows.rows_from_table(args.kind, read_table(args.file, args.encoding))
        with transaction(make_session_factory(engine), principal=system) as session:
            report = service.run(session, system, args.kind, rows, dry_run=args.dry_run, file_name=str(args.file),
                                 progress=_progress)
    except service.ImportHasErrors as exc:
        for item in exc.detail:
            for p in item["problems"]:
                print(f"第 {item['row']} 行 / row {item['row']}: {p['zh']} / {p['en']}", file=sys.stderr)
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return REFUSED
    except ShiyuError as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return REFUSED
    finally:
        engine.dispose()
    n = len(report.rows)
    if args.dry_run:
        print(f"{n} 行均可导入（未写入）\nAll {n} rows can be imported (nothing written)")
    else:
        print(f"已导入 {report.written} 行\nImported {report.written} rows")
    return 0
