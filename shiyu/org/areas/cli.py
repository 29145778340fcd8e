"""``shiyu import areas FILE [--dry-run] [--crs CRS] [--map SRC=FIELD,…] [--clip-to-parent]`` and
``shiyu export areas [--root CODE] [-o FILE]``.

``import`` and ``export`` are shared command groups: each domain adds its own kind (``import residents``
later) through ``command_group``, which returns the group's sub-parsers, creating the group the first time.
A bad option (an unknown CRS or mapping field) exits with 2, as argparse does for every usage error; a
file with errors prints its report and exits with 1. Both commands act as the system
(``Principal.system("cli")``) on ``Settings().database_url``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shiyu.core.commands import command_group
from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.areas import crs, importer, sources


def register(sub: Any) -> None:
    imp = command_group(sub, "import", "import data files (validated as a whole; nothing written on error)")
    areas_in = imp.add_parser("areas", help="areas and grids from a GeoJSON FeatureCollection")
    areas_in.add_argument("file", type=Path, help="GeoJSON file")
    areas_in.add_argument("--dry-run", action="store_true", help="only validate and print the report")
    areas_in.add_argument("--crs", default="wgs84", type=_crs, metavar="|".join(crs.CRS_NAMES),
                          help="the file's coordinate system, converted to WGS-84 (gcj02: 高德/腾讯/DataV, "
                               "bd09: 百度; cgcs2000 = wgs84 within centimetres); default wgs84")
    areas_in.add_argument("--map", type=_mapping, default={}, metavar="SRC=FIELD,…",
                          help="property names of the file for our fields, e.g. 网格编码=code,网格名称=name,"
                               f"上级编码=parent_code (fields: {', '.join(sources.TARGETS)})")
    areas_in.add_argument("--clip-to-parent", action="store_true",
                          help="cut each new area to its parent's boundary and report how much was cut")
    areas_in.set_defaults(handler=_import)

    exp = command_group(sub, "export", "export data files")
    areas_out = exp.add_parser("areas", help="areas and grids as a GeoJSON FeatureCollection")
    areas_out.add_argument("--root", metavar="CODE", help="code of the subtree's root (default: everything)")
    areas_out.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    areas_out.set_defaults(handler=_export)


def _crs(value: str) -> str:
    try:
        return importer.ImportOptions.parse(value).crs
    except ShiyuError as exc:
        raise argparse.ArgumentTypeError(f"{exc.zh} / {exc.en}") from exc


def _mapping(value: str) -> dict[str, str]:
    try:
        return sources.parse_mapping(value)
    except ShiyuError as exc:
        raise argparse.ArgumentTypeError(f"{exc.zh} / {exc.en}") from exc


def _factory() -> Any:
    from shiyu.core.commands import load_settings

    return make_session_factory(make_engine(load_settings().database_url))


def print_report(report: dict[str, Any], out: Any = None) -> None:
    """The import report, Chinese first then English, one issue per line."""
    out = out or sys.stdout
    s = report["summary"]
    verdict = ("文件有效", "the file is valid") if report["valid"] else ("文件有错误", "the file has errors")
    print(f"{verdict[0]}：{s['features']} 个要素，新建 {s['create']}，更新 {s['update']}，未变 {s['unchanged']}，"
          f"错误 {s['errors']}，警告 {s['warnings']}", file=out)
    print(f"{verdict[1].capitalize()}: {s['features']} features, {s['create']} new, {s['update']} updated, "
          f"{s['unchanged']} unchanged, {s['errors']} errors, {s['warnings']} warnings", file=out)
    source = report.get("source") or {}
    if source.get("converted_points"):
        n, label = source["converted_points"], source["crs_label"]
        print(f"坐标已由 {label} 转换为 WGS-84（{n} 个点） / converted {n} points from {label} to WGS-84", file=out)
    elif source.get("crs") == "cgcs2000":
        print("CGCS2000 与 WGS-84 相差仅厘米级，坐标未改动 / CGCS2000 is WGS-84 within centimetres: kept as is",
              file=out)
    for f in report["features"]:
        if f.get("clipped"):
            c = f["clipped"]
            print(f"#{f['index']} {f['code']} {f['name']}：已裁剪到上级，裁掉 {c['percent']}%（{c['m2']:,} 平方米） / "
                  f"clipped to its parent, {c['percent']}% ({c['m2']:,} m²) cut off", file=out)
    issues = [("", i) for i in report["general"]]
    for f in report["features"]:
        issues.extend((f"#{f['index']} ", i) for i in f["errors"] + f["warnings"])
    for where, i in issues:
        label = "错误 error" if i["severity"] == "error" else "警告 warning"
        print(f"{where}[{label}] {i['code']}: {i['message_zh']} / {i['message_en']}", file=out)
    if report["written"]:
        print("已写入数据库 / written to the database", file=out)
    elif report["valid"]:
        print("试运行，未写入 / dry run, nothing written", file=out)


def _import(args: argparse.Namespace) -> int:
    data = args.file.read_bytes()
    try:
        with transaction(_factory(), principal=Principal.system("cli")) as session:
            options = importer.ImportOptions(args.crs, args.map, args.clip_to_parent)
            report = importer.import_areas(session, Principal.system("cli"), data, dry_run=args.dry_run,
                                           options=options).to_dict()
    except importer.ImportInvalid as exc:
        report = exc.detail
    except ShiyuError as exc:
        print(f"{exc.zh} / {exc.en}", file=sys.stderr)
        return 1
    print_report(report)
    return 0 if report["valid"] else 1


def _export(args: argparse.Namespace) -> int:
    try:
        with transaction(_factory(), principal=Principal.system("cli")) as session:
            root_id = importer.find_root(session, args.root) if args.root else None
            collection = importer.export_areas(session, root_id)
    except ShiyuError as exc:
        print(f"{exc.zh} / {exc.en}", file=sys.stderr)
        return 1
    text = json.dumps(collection, ensure_ascii=False)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"已导出 {len(collection['features'])} 个区域 / exported {len(collection['features'])} areas "
              f"→ {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0
