"""The default calendar: China's 2026 public holidays and make-up working days.

Source: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04). This is editable data, not code: a city
adds local arrangements and next year's notice through ``PUT /api/v1/calendar/years/{year}`` (needs
``calendar.edit``); the seed never overwrites a year that already has entries.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.org.calendar.models import CalendarDay, DayKind
from shiyu.org.calendar.schemas import DayRange
from shiyu.org.calendar.service import apply_year

H, W = DayKind.HOLIDAY, DayKind.WORKDAY
CHINA_2026: list[tuple[str, str, DayKind, str, str]] = [
    ("2026-01-01", "2026-01-03", H, "元旦", "New Year's Day"),
    ("2026-01-04", "2026-01-04", W, "元旦调休上班", "New Year make-up working day"),
    ("2026-02-14", "2026-02-14", W, "春节调休上班", "Spring Festival make-up working day"),
    ("2026-02-15", "2026-02-23", H, "春节", "Spring Festival"),
    ("2026-02-28", "2026-02-28", W, "春节调休上班", "Spring Festival make-up working day"),
    ("2026-04-04", "2026-04-06", H, "清明节", "Qingming Festival"),
    ("2026-05-01", "2026-05-05", H, "劳动节", "Labour Day"),
    ("2026-05-09", "2026-05-09", W, "劳动节调休上班", "Labour Day make-up working day"),
    ("2026-06-19", "2026-06-21", H, "端午节", "Dragon Boat Festival"),
    ("2026-09-20", "2026-09-20", W, "国庆节调休上班", "National Day make-up working day"),
    ("2026-09-25", "2026-09-27", H, "中秋节", "Mid-Autumn Festival"),
    ("2026-10-01", "2026-10-07", H, "国庆节", "National Day"),
    ("2026-10-10", "2026-10-10", W, "国庆节调休上班", "National Day make-up working day"),
]


def seed_calendar(session: Session) -> None:
    """Load the 2026 arrangement unless 2026 already has entries (idempotent; keeps local edits)."""
    year = 2026
    present = session.scalar(
        select(func.count(CalendarDay.id)).where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    )
    if present:
        return
    ranges = [
        DayRange(start=date.fromisoformat(s), end=date.fromisoformat(e), kind=k, name_zh=zh, name_en=en)
        for s, e, k, zh, en in CHINA_2026
    ]
    apply_year(session, year, ranges)
