"""Small helpers shared by the administration pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from shiyu.core.errors import ValidationFailed
from shiyu.core.paging import PageParams

PAGE_SIZE = 50


def paging(offset: int, limit: int = PAGE_SIZE) -> PageParams:
    return PageParams(limit=limit, offset=max(0, offset))


def redirect(request: Request, url: str) -> Response:
    """After a successful htmx form post: let htmx navigate; plain posts get a 303."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def base_query(request: Request, drop: tuple[str, ...] = ("offset",)) -> str:
    """The current query string without ``drop``, ending with ``&`` (for pager links)."""
    from urllib.parse import urlencode

    items = [(k, v) for k, v in request.query_params.multi_items() if k not in drop and v != ""]
    return "?" + (urlencode(items) + "&" if items else "")


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def end_of_day(text: str, request: Request, field: str = "due_date") -> datetime:
    """A form's date as the end of that day in the city's time zone (a campaign is due by the evening of its
    date); a missing or malformed date is a 422 naming ``field``."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError as exc:
        raise ValidationFailed("task_due_invalid", "请选择截止日期", "Choose the due date",
                               detail={"field": field}) from exc
    return day.replace(tzinfo=request.app.state.settings.tz) + timedelta(days=1) - timedelta(minutes=1)
