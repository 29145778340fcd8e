"""A year's public holidays and make-up working days from a file: the State Council's 放假安排 as published,
or a simple CSV or JSON list. What is read replaces the year's overrides (``service.replace_year``), since
the notice is the whole arrangement of its year.

Accepted text (UTF-8), told apart by its first characters:

- **the notice's lines**, pasted as published (``docs/calendar.md``)::

      一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
      二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。

  One line per holiday: the name before ``：``; the sentence with ``放假`` gives the days off (``M月D日`` or
  ``M月D日至[M月]D日``); a sentence with ``上班`` lists the make-up working days. Parenthesised notes
  (weekdays, lunar dates) are ignored. A date may carry its year (``2024年12月30日``).
- **CSV** with the header ``start,end,kind,name_zh,name_en``: ISO dates, ``end`` empty for one day, ``kind``
  ``holiday``/``workday`` (or 放假/上班).
- **JSON**: ``{"year": 2027, "ranges": [{"start", "end", "kind", "name_zh", "name_en"}]}`` or just the list
  (the shape of ``PUT /api/v1/calendar/years/{year}``).

Every problem names its line; nothing is written when any line is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pydantic

from shiyu.core.errors import ValidationFailed
from shiyu.org.calendar.models import DayKind
from shiyu.org.calendar.schemas import DayRange

MAX_CHARS = 100_000
ENGLISH = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Qingming Festival",
           "劳动节": "Labour Day", "端午节": "Dragon Boat Festival", "中秋节": "Mid-Autumn Festival",
           "国庆节": "National Day"}
KINDS = {"holiday": DayKind.HOLIDAY, "放假": DayKind.HOLIDAY, "workday": DayKind.WORKDAY, "上班": DayKind.WORKDAY}
_NUMBERING = re.compile(r"^\s*(?:[一二三四五六七八九十]+|\d+)\s*[、.．]\s*")
_NOTES = re.compile(r"[（(][^）)]*[）)]")
_DATE = r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日"
_RANGE = re.compile(_DATE + r"(?:\s*[至到—~-]\s*(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日)?")
_DAY = re.compile(_DATE)


@dataclass(frozen=True)
class Parsed:
    """What a file says for ``year``, in the order read, and in which format it was read."""

    year: int
    ranges: list[DayRange]
    format: str


def parse(text: str, year: int | None) -> Parsed:
    """Read ``text`` (see the module's docstring). ``year`` is required for the notice's lines and CSV unless
    their dates carry it; a JSON file may name it."""
    if len(text) > MAX_CHARS:
        raise ValidationFailed("calendar_file_too_long", "文件过长（最多 {n} 字）", "The file is too long "
                               "(at most {n} characters)", n=MAX_CHARS, detail={"field": "text"})
    body = text.lstrip("\ufeff").strip()
    if not body:
        raise ValidationFailed("calendar_file_empty", "没有可读取的内容", "There is nothing to read",
                               detail={"field": "text"})
    if body[0] in "[{":
        return _json(body, year)
    first = body.splitlines()[0].replace(" ", "").lower()
    if first.startswith("start,"):
        return _csv(body, year)
    return _notice(body, year)


def _problem(line: int, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("calendar_line_invalid", "第 {line} 行：{what}", "Line {line}: {what_en}", line=line,
                            what=zh, what_en=en, detail={"field": "text", "line": line})


def _json(body: str, year: int | None) -> Parsed:
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise _problem(1, "不是有效的 JSON", "not valid JSON") from None
    if isinstance(data, dict):
        year = data.get("year", year) if isinstance(data.get("year", year), int) else year
        data = data.get("ranges")
    if not isinstance(data, list):
        raise _problem(1, "须为日期范围的列表", "must be a list of date ranges")
    ranges = [_range(item, n) for n, item in enumerate(data, start=1)]
    return Parsed(_year_of(ranges, year), ranges, "json")


def _csv(body: str, year: int | None) -> Parsed:
    rows = list(csv.DictReader(io.StringIO(body)))
    ranges = []
    for n, row in enumerate(rows, start=2):
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        ranges.append(_range({"start": values.get("start"), "end": values.get("end") or None,
                              "kind": KINDS.get(values.get("kind", ""), values.get("kind")),
                              "name_zh": values.get("name_zh", ""), "name_en": values.get("name_en", "")}, n))
    return Parsed(_year_of(ranges, year), ranges, "csv")


def _range(item: Any, line: int) -> DayRange:
    try:
        if isinstance(item, dict) and item.get("kind") in KINDS:
            item = item | {"kind": KINDS[item["kind"]]}
        return DayRange.model_validate(item)
    except pydantic.ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "range"
        raise _problem(line, f"“{field}”无效", f"'{field}' is not valid") from None


def _notice(body: str, year: int | None) -> Parsed:
    """Dates without a year take the one given, else the first a date in the text carries."""
    if year is None:
        named = re.search(r"(\d{4})年\d{1,2}月", body)
        year = int(named.group(1)) if named else None
    ranges: list[DayRange] = []
    for n, raw in enumerate(body.splitlines(), start=1):
        line = _NOTES.sub("", _NUMBERING.sub("", raw)).strip()
        if not line:
            continue
        name, sep, rest = line.replace(":", "：").partition("：")
        if not sep or not name.strip():
            raise _problem(n, "须为“节日名：日期放假……”", "expected 'holiday: dates 放假 …'")
        name = name.strip()
        english = " and ".join(ENGLISH.get(part, part) for part in name.split("、"))
        found = False
        for sentence in re.split(r"[。；;]", rest):
            if "放假" in sentence:
                for m in _RANGE.finditer(sentence):
                    start = _date(n, m.group(1), m.group(2), m.group(3), year)
                    end = _date(n, m.group(4) or m.group(1), m.group(5) or m.group(2), m.group(6), year) \
                        if m.group(6) else start
                    ranges.append(DayRange(start=start, end=end, kind=DayKind.HOLIDAY, name_zh=name,
                                           name_en=english))
                    found = True
            elif "上班" in sentence:
                for m in _DAY.finditer(sentence):
                    day = _date(n, m.group(1), m.group(2), m.group(3), year)
                    ranges.append(DayRange(start=day, end=day, kind=DayKind.WORKDAY, name_zh=f"{name}调休上班",
                                           name_en=f"{english} make-up working day"))
                    found = True
        if not found:
            raise _problem(n, "没有读到放假或上班的日期", "no days off or working days found")
    return Parsed(_year_of(ranges, year), ranges, "notice")


def _date(line: int, year_text: str | None, month: str, day: str, year: int | None) -> date:
    which = int(year_text) if year_text else year
    if which is None:
        raise _problem(line, "请注明年份", "name the year")
    try:
        return date(which, int(month), int(day))
    except ValueError:
        raise _problem(line, f"日期 {month}月{day}日 不存在", f"there is no date {month}-{day}") from None


def _year_of(ranges: list[DayRange], year: int | None) -> int:
    """The year the file is for: the one given, else the one its dates share."""
    if year is not None:
        return year
    years = {r.start.year for r in ranges}
    if len(years) != 1:
        raise ValidationFailed("calendar_year_unclear", "请指定年份", "Name the year", detail={"field": "year"})
    return years.pop()
