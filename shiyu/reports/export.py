"""One report, one file: the format is chosen by the file's suffix (``.xlsx`` or ``.docx``).

The writers are imported on first use: openpyxl, python-docx and matplotlib take seconds to load, and every
worker and app process imports this module (through the filing job's declaration) without making a report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.reports import data
from shiyu.reports.data import Report
from shiyu.reports.periods import KIND_ZH, ReportPeriod


@dataclass(frozen=True)
class Format:
    suffix: str
    mime: str
    write: Callable[[Report], bytes]


def _excel(report: Report) -> bytes:
    from shiyu.reports import excel

    return excel.write(report)


def _word(report: Report) -> bytes:
    from shiyu.reports import word

    return word.write(report)


FORMATS = {
    "xlsx": Format("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _excel),
    "docx": Format("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _word),
}


def format_named(name: str) -> Format:
    """The format called ``name`` (``xlsx``/``docx``, any case, with or without the dot)."""
    key = (name or "").strip().lower().lstrip(".")
    if key not in FORMATS:
        raise ValidationFailed("report_format_unknown", "不支持的报告格式“{name}”：请使用 .xlsx 或 .docx",
                               "Unsupported report format '{name}': use .xlsx or .docx", detail={"field": "format"},
                               name=name)
    return FORMATS[key]


def format_of(path: str) -> Format:
    """The format a file name's suffix asks for."""
    return format_named(PurePath(path).suffix or path)


def file_name(report: Report, fmt: Format) -> str:
    """``鹭屿区周报_2026-W48.docx``: what the leader's browser saves it as."""
    return f"{report.area_name}{KIND_ZH[report.period.kind]}_{report.period.label}.{fmt.suffix}"


def make(session: Session, principal: Principal, tz: ZoneInfo, area_code: str, period: ReportPeriod,
         fmt: Format) -> tuple[Report, bytes]:
    """The report of ``area_code`` for ``period`` in ``fmt``, as ``principal`` may see it."""
    report = data.build(session, principal, tz, area_code, period)
    return report, fmt.write(report)
