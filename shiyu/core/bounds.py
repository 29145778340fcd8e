"""The ranges the databases can hold, as input types (security review S8, S9 a/f).

Ids are ``INTEGER`` columns: PostgreSQL's hold up to 2³¹−1, SQLite's up to 2⁶³−1. An id outside the
smaller range cannot name anything, so it is refused where it is typed (a body or query field: 422) or
answered as not found (a path: 404, ``shiyu.web.bounds``), instead of reaching the database, which answers
PostgreSQL's "integer out of range" or Python's OverflowError with a 500.

Occurrence times (``occurred_at``) are plausible or refused: not before ``EARLIEST_OCCURRENCE``, not
later than ``FUTURE_SLACK`` from now (a phone's clock may run a little fast). That also keeps a time like
year 1 at +14:00, which has no UTC equivalent, away from the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
EARLIEST_OCCURRENCE = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(minutes=10)

DbId = Annotated[int, Field(ge=1, le=INT32_MAX, description="an id")]


def plausible_occurrence(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc
    if utc < EARLIEST_OCCURRENCE:
        raise ValueError(f"an occurrence time before {EARLIEST_OCCURRENCE:%Y-%m-%d} is not plausible")
    if utc > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError("an occurrence time in the future is not plausible")
    return value


