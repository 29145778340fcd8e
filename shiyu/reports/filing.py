"""Reports filed by the weekly job: each centre's last-week report, in storage, listed for its leaders.

A ``FiledReport`` row names one stored file (area × kind × period × format); the row carries the area's path,
so the scope layer shows a leader the reports of the areas under their ``indicator.view`` grants and no
others. Only the system writes them (``report.file`` is no role's permission).

**Idempotent filing.** ``file_due`` files the last complete week's reports of every centre that has none yet,
once the local time is past Monday ``FILE_AT`` (07:00 in the city's zone). The unique key makes a second
run — the next tick, another worker, a retried job — skip what exists; a tick missed while the worker was
down is caught up by the next one in the week. Each centre is filed in its own transaction, file first,
row second: a crash between the two leaves a file that the next run overwrites with the same content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.storage import Storage
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.org.units.models import Centre
from shiyu.reports import data, export
from shiyu.reports.periods import Kind, ReportPeriod, last_complete

log = logging.getLogger("shiyu.reports")
FILE_AT = time(7, 0)  # Monday, local time
FILED_FORMATS = ("docx", "xlsx")
MAX_PER_RUN = 500  # centres filed by one run; the next tick goes on where it stopped
UNSCOPED = {"unscoped": True}


@register_scoped
class FiledReport(ScopedMixin, TimestampMixin, Base):
    __tablename__ = "filed_report"
    __table_args__ = (UniqueConstraint("area_id", "kind", "period", "format"),)
    __view_permission__ = "indicator.view"
    __write_permission__ = "report.file"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))  # 2026-W48 / 2026-11
    format: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]


def storage_key(area_code: str, period: ReportPeriod, fmt: export.Format) -> str:
    return f"reports/{period.kind.value}/{period.label}/{area_code}.{fmt.suffix}"


def due_week(now: datetime, tz: ZoneInfo) -> ReportPeriod | None:
    """The week to file at ``now``: last week, from this Monday's ``FILE_AT`` on (nothing on Monday before it)."""
    local = now.astimezone(tz)
    if local.weekday() == 0 and local.time() < FILE_AT:
        return None
    return last_complete(Kind.WEEKLY, local.date())


def file_due(factory: sessionmaker[Session], storage: Storage, tz: ZoneInfo, *, now: datetime | None = None) -> int:
    """File the due week's reports of every centre that lacks them; returns how many files were written."""
    now = now or utcnow()
    period = due_week(now, tz)
    if period is None:
        return 0
    system = Principal.system("reports")
    with factory() as s:
        s.info["principal"] = system
        centres = list(s.execute(select(Area.id, Area.code, Area.area_path).join(Centre, Centre.area_id == Area.id)
                                 .order_by(Area.level, Area.code)))
        done = {(area_id, fmt) for area_id, fmt in s.execute(
            select(FiledReport.area_id, FiledReport.format).where(FiledReport.kind == period.kind.value,
                                                                  FiledReport.period == period.label))}
    written = filed = 0
    for area_id, code, path in centres:
        missing = [f for f in FILED_FORMATS if (area_id, f) not in done]
        if not missing:
            continue
        if filed >= MAX_PER_RUN:
            break
        written += _file_one(factory, storage, tz, system, area_id, code, path, period, missing, now)
        filed += 1
    if written:
        log.info("reports: %d files filed for %s", written, period.label)
    return written


def _file_one(factory: sessionmaker[Session], storage: Storage, tz: ZoneInfo, system: Principal, area_id: int,
              code: str, path: str, period: ReportPeriod, formats: Sequence[str], now: datetime) -> int:
    with factory() as s:
        s.info["principal"] = system
        report = data.build(s, system, tz, code, period, now=now, with_sections=False)
        for name in formats:
            fmt = export.FORMATS[name]
            content = fmt.write(report)
            key = storage_key(code, period, fmt)
            storage.put(key, content)
            s.add(FiledReport(area_id=area_id, area_path=path, kind=period.kind.value, period=period.label,
                              format=fmt.suffix, title=report.title, file_name=export.file_name(report, fmt),
                              storage_key=key, size=len(content)))
        s.commit()
    return len(formats)


def listed(session: Session, limit: int = 100) -> list[FiledReport]:
    """The filed reports the caller may see, newest period first."""
    return list(session.scalars(select(FiledReport).order_by(FiledReport.period.desc(), FiledReport.area_path,
                                                             FiledReport.format).limit(limit)))


def get(session: Session, report_id: int) -> FiledReport:
    row = session.get(FiledReport, report_id)
    if row is None:
        raise NotFound(detail={"object": "filed_report", "id": report_id})
    return row
