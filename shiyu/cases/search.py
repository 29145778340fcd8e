"""Finding a case from one search box: by tracking code, by the reporter's phone (all of it or its last four
digits), or by words of its description, address or code.

What the operator types decides the search, the way they would say it on the phone:

- a whole tracking code, typed in any case and with spaces or dashes (``2612 ab3c-def4 56``), finds that case;
- 4 digits are the last four of the caller's number, 7 to 13 digits (``+86`` and separators allowed) the
  whole number — both through blind indexes (``Case.reporter_phone_hash``, ``Case.reporter_phone_tail_hash``),
  so no phone is decrypted to search; such a search is recorded in the audit log with the masked number, as
  looking up a person by their number is itself a use of their personal data;
- anything else is words, each of which must occur in the case's code, description or address
  (``shiyu.core.textsearch``; docs/adr/0007-case-search-index.md).

Every query runs in the caller's scoped session, so a case outside their grants is never found, and the
count stops at ``COUNT_CAP`` (a common phrase is not counted, see ``estimate``) so that a common word costs
no more than a rare one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from shiyu.cases.intake.service import CODE_ALPHABET
from shiyu.cases.models import Case, phone_tail_hash
from shiyu.core import audit, textsearch
from shiyu.core.errors import ValidationFailed
from shiyu.core.paging import PageParams
from shiyu.core.pii import blind_hash, mask

MAX_QUERY = 100
COUNT_CAP = 1000
# Walking the cases newest first reads about page / share rows for a phrase in ``share`` of them; the gram
# index reads share × all rows. Past the share where the two meet, √(page / all), the walk is cheaper.
WALK_MARGIN = 1.5
_CODE = re.compile(rf"^[0-9]{{4}}[{CODE_ALPHABET}]{{10}}$")
_SEPARATORS = re.compile(r"[\s\-_.·]+")
_PHONE = re.compile(r"^(?:\+?86)?[0-9]{4,13}$")


@dataclass(frozen=True)
class Query:
    """What the search box held, read: ``kind`` is ``code``, ``phone``, ``phone_tail`` or ``text``."""

    kind: str
    value: str
    text: str  # as typed (trimmed), for the page to show back


@dataclass
class Found:
    query: Query
    cases: list[Case]
    total: int  # at most COUNT_CAP
    capped: bool  # there are more than COUNT_CAP
    exact: Case | None = None  # the one case a whole tracking code names
    many: bool = False  # a common phrase, not counted: ``total`` is what was listed so far


def code_of(text: str) -> str | None:
    """The tracking code ``text`` spells, whatever its case and separators; None when it spells none."""
    code = _SEPARATORS.sub("", text).upper()
    return code if _CODE.match(code) else None


def read(text: str) -> Query:
    typed = (text or "").strip()
    if not typed:
        raise ValidationFailed("search_empty", "请输入案件编号、来电号码（或后四位）、地址或描述中的文字",
                               "Type a tracking code, a phone number (or its last 4 digits), an address or words",
                               detail={"field": "q"})
    if len(typed) > MAX_QUERY:
        raise ValidationFailed("search_too_long", f"查找内容不能超过{MAX_QUERY}个字",
                               f"A search is at most {MAX_QUERY} characters", detail={"field": "q"})
    code = code_of(typed)
    if code:
        return Query("code", code, typed)
    compact = _SEPARATORS.sub("", typed)
    if _PHONE.match(compact):
        digits = compact.removeprefix("+").removeprefix("86") if len(compact) > 11 else compact
        if len(digits) == 4:
            return Query("phone_tail", digits, typed)
        if len(digits) >= 7:
            return Query("phone", digits, typed)
    return Query("text", typed, typed)


def _where(query: Query, use_grams: bool) -> Any:
    if query.kind == "code":
        return Case.tracking_code == query.value
    if query.kind == "phone":
        return Case.reporter_phone_hash == blind_hash("phone", query.value)
    if query.kind == "phone_tail":
        return Case.reporter_phone_tail_hash == phone_tail_hash(query.value)
    return textsearch.match(Case.search_text, Case.search_grams, query.value, use_grams)


def estimate(session: Session, query: Query) -> tuple[float, float]:
    """PostgreSQL's estimate of how many cases' text holds every term, and of all cases ((0, 0) elsewhere).

    The planner estimates a ``LIKE`` on ``search_text`` well from its statistics, but it takes a term's
    bigrams as independent, so with the gram condition it expects a handful of rows for a common phrase
    (路灯不亮: 244 expected, 62,852 found at a million cases) and reads them all through the GIN index
    before sorting. So the search asks for the estimate of the text condition alone and, for a common
    phrase, leaves the grams out: newest first through ``reported_at`` then stops after one page."""
    if query.kind != "text" or session.get_bind().dialect.name != "postgresql":
        return 0.0, 0.0
    condition = textsearch.match(Case.search_text, Case.search_grams, query.value, use_grams=False)
    compiled = select(Case.id).where(condition).compile(session.get_bind())
    plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    total = session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'case'")).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"]), max(float(total or 0), 0.0)


def statement(session: Session, query: Query, common: bool = False) -> Select[Any]:
    """The matching cases, newest report first (the scope listener adds the caller's scope); ``common``:
    without the gram condition (see ``estimate``)."""
    use_grams = session.get_bind().dialect.name == "postgresql" and not common
    return select(Case).where(_where(query, use_grams)).order_by(Case.reported_at.desc(), Case.id.desc())


def capped_count(session: Session, stmt: Select[Any]) -> tuple[int, bool]:
    """How many rows ``stmt`` gives, counting no further than ``COUNT_CAP`` + 1."""
    inner = stmt.order_by(None).with_only_columns(Case.id).limit(COUNT_CAP + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(inner)) or 0)
    return min(n, COUNT_CAP), n > COUNT_CAP


def search(session: Session, text: str, page: PageParams) -> Found:
    query = read(text)
    if query.kind in ("phone", "phone_tail"):
        shown = mask("phone", query.value) if query.kind == "phone" else "****" + query.value
        audit.record(session, "case.search_phone", "case", None, after={"kind": query.kind, "phone": shown})
    rows_expected, all_rows = estimate(session, query)
    common = all_rows > 0 and rows_expected / all_rows > WALK_MARGIN * math.sqrt(page.limit / all_rows)
    stmt = statement(session, query, common)
    if query.kind == "code":
        rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
        return Found(query, rows, len(rows), False, rows[0] if rows else None)
    if common:  # counting would walk on through every case: say how many were listed, and that there are more
        rows = list(session.scalars(stmt.limit(page.limit).offset(page.offset)))
        return Found(query, rows, page.offset + len(rows), False, many=len(rows) == page.limit)
    return _counted_page(session, query, stmt, page)


def _counted_page(session: Session, query: Query, stmt: Select[Any], page: PageParams) -> Found:
    """A page of an uncommon search and its count from one scan of the matches.

    Sorting the page reads every match anyway, so the matching ids come back sorted up to ``COUNT_CAP`` + 1:
    their number is the count and the page is a slice of them, loaded by primary key — instead of a second
    scan of the same matches only to count them."""
    ids = list(session.scalars(stmt.with_only_columns(Case.id).limit(COUNT_CAP + 1)))
    total, capped = min(len(ids), COUNT_CAP), len(ids) > COUNT_CAP
    if page.offset + page.limit > COUNT_CAP:  # past the counted matches: the plain page query
        return Found(query, list(session.scalars(stmt.limit(page.limit).offset(page.offset))), total, capped)
    wanted = ids[page.offset:page.offset + page.limit]
    loaded = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(wanted)))} if wanted else {}
    return Found(query, [loaded[i] for i in wanted if i in loaded], total, capped)
