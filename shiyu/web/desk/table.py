"""The desk's dense case table (编号, 类别, 社区/网格, 来源, 状态, 当前部门, 剩余/超期, 紧急): one row per case with
every label resolved, shared by the search results, the 辖区案件 list and its Excel export, so the file
holds exactly the words the page shows.

Labels are read by id for the rows at hand: area and department names unscoped (a case the caller sees may
be handled by a department, or lie in a grid, outside what they may list; its name is still their business).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from sqlalchemy.orm import Session

from shiyu.cases.categories import service as categories
from shiyu.cases.models import Case
from shiyu.cases.workflow import deadlines
from shiyu.cases.workflow.table import STATE_LABELS
from shiyu.core.pii import mask, mask_text
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service as areas
from shiyu.org.units import service as units
from shiyu.web.i18n import translate

COLUMNS = ("code", "category", "area", "channel", "state", "department", "due", "urgency")


def category_names(db: Session, lang: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for major in categories.tree(db, include_inactive=True):
        for c in (major, *major.children):
            names[c.id] = c.name_en if lang == "en" and c.name_en else c.name_zh
    return names


def duration(seconds: float, lang: str) -> str:
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return translate(lang, "desk.dur.days", d=days, h=hours)
    if hours:
        return translate(lang, "desk.dur.hours", h=hours, m=mins)
    return translate(lang, "desk.dur.minutes", m=mins)


def remaining(case: Case, now: datetime, lang: str) -> str:
    """剩余 3小时20分 / 超期 2天1小时 of the running step; empty when no clock runs."""
    if case.step_due_at is None:
        return ""
    left = (case.step_due_at - now).total_seconds()
    key = "desk.remaining" if left >= 0 else "desk.overdue_by"
    return translate(lang, key, d=duration(left, lang))


def rows(db: Session, cases: Sequence[Case], now: datetime, lang: str, *, phones: bool = False) -> list[dict[str, Any]]:
    """The table's rows; ``phones`` adds the reporter's phone, masked (search results: the caller confirms
    the number they were given without seeing it)."""
    cats = category_names(db, lang)
    grids = areas.areas_by_id(db, [c.grid_id for c in cases])
    communities = areas.areas_by_id(db, [g.parent_id for g in grids.values()])
    depts = units.department_names(db, [c.main_department_id for c in cases])
    out = []
    for c in cases:
        grid = grids.get(c.grid_id)
        community = communities.get(grid.parent_id) if grid and grid.parent_id else None
        colour = deadlines.colour(c, now)
        out.append({
            "id": c.id, "code": c.tracking_code, "category": cats.get(c.category_id, ""),
            "area": " / ".join(a.name for a in (community, grid) if a is not None),
            "channel": translate(lang, "desk.channel." + c.channel),
            "state": STATE_LABELS[c.state_enum][1 if lang == "en" else 0],
            "department": depts.get(c.main_department_id or 0, ""),
            "due": remaining(c, now, lang), "colour": colour.value if colour else "none",
            "urgency": translate(lang, "desk.urgency." + c.urgency), "urgent": c.urgency != "normal",
            "supervised": c.supervised, "reported_at": c.reported_at,
            "description": mask_text(c.description) or "", "address": mask_text(c.address) or "",
            "phone": mask("phone", c.reporter_phone) if phones else None,
        })
    return out


def workbook(db: Session, cases: Sequence[Case], lang: str, sheet_title: str, *, above: Sequence[str] = (),
             more: str | None = None, widths: Sequence[int] = ()) -> bytes:
    """The rows of a case table as an Excel workbook: ``above`` (a title line, say) first, the bold column
    headers, a row per case, and ``more`` (the export's limit was reached) last. openpyxl is imported here,
    when someone exports: with the page modules it cost every process and command 0.2 s to start."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title[:31]
    for line in above:
        sheet.append([line])
    sheet.append([translate(lang, "desk.col." + c) for c in COLUMNS])
    for cell in sheet[len(above) + 1]:
        cell.font = Font(bold=True)
    for row in rows(db, cases, utcnow(), lang):
        sheet.append([row[c] for c in COLUMNS])
    if more:
        sheet.append([more])
    for number, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = f"A{len(above) + 2}"
    data = BytesIO()
    book.save(data)
    return data.getvalue()
