"""``shiyu users import FILE [--dry-run] [--codes OUT.xlsx]``: people from an XLSX or CSV file.

The report lists every row with a problem (in Chinese and English); without ``--dry-run`` the accounts are
created only when no row has one (all or nothing), and their one-time activation codes are written to
``--codes`` (required then: the codes exist nowhere else). The command acts as the system, so every account
is in the audit log, and so is the writing of the codes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.tabular import read_table, write_table
from shiyu.org.identity.bulk import rows as bulk_rows
from shiyu.org.identity.bulk import service

REFUSED = 2


def add_commands(cmds: Any, run: Any) -> None:
    """Register ``import`` under ``shiyu users``; ``run`` is identity's CLI runner (settings, keys, one
    transaction, refusals printed with exit status 2)."""
    parser = cmds.add_parser("import", help="create accounts from an XLSX/CSV file (姓名, 手机, 身份证号, 角色, "
                                            "区域编码 or 部门), each with a one-time activation code")
    parser.add_argument("file", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="check every row and report; create nothing")
    parser.add_argument("--codes", type=Path, help="where to write the activation codes (.xlsx or .csv)")
    parser.add_argument("--encoding", help="CSV encoding when detection (utf-8-sig, then gb18030) is not enough")
    parser.set_defaults(handler=lambda args: _import(args, run))


def _import(args: argparse.Namespace, run: Any) -> int:
    if not args.dry_run and args.codes is None:
        print("请用 --codes 指定激活码文件（或用 --dry-run 只检查）\n"
              "Give --codes OUT.xlsx for the activation codes (or --dry-run to check only)", file=sys.stderr)
        return REFUSED
    failed: list[str] = []

    def act(session: Session) -> str:
        from shiyu.core.commands import load_settings

        rows = bulk_rows.rows_from_table(read_table(args.file, args.encoding))
        checked = bulk_rows.check(session, Principal.system("cli"), rows)
        bad = [c for c in checked if not c.ok]
        for c in bad:
            failed.extend(f"第 {c.row.number} 行 / row {c.row.number}: {p.zh} / {p.en}" for p in c.problems)
        if args.dry_run or bad:
            if bad:
                raise ValidationFailed("import_has_errors", f"{len(bad)} 行有问题，未导入任何账号",
                                       f"{len(bad)} rows have problems; nothing was imported")
            return f"{len(rows)} 行均可导入（未写入）\nAll {len(rows)} rows can be imported (nothing written)"
        codes = service.create_accounts(session, checked, None, ZoneInfo(load_settings().timezone))
        write_table(args.codes, service.codes_table(codes))
        audit.record(session, "write_codes", "user_import", None, after={"count": len(codes),
                                                                        "file": str(args.codes)})
        return (f"已导入 {len(codes)} 个账号，激活码已写入 {args.codes}（请妥善分发后删除）\n"
                f"Imported {len(codes)} accounts; their activation codes are in {args.codes} "
                f"(hand them out, then delete the file)")

    status = run(act)
    if failed:
        print("\n".join(failed), file=sys.stderr)
    return int(status)
