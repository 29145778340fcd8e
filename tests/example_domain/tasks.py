"""The example domain's periodic job: expire every notice each night (idempotent: a second run changes nothing)."""

from __future__ import annotations

from sqlalchemy import update

from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from tests.example_domain.models import Notice


@periodic(hour="2", minute="0")
def expire_notices(ctx: JobContext) -> int:
    with transaction(ctx.session_factory, principal=Principal.system("notices")) as s:
        return s.execute(update(Notice).where(Notice.expired.is_(False)).values(expired=True)).rowcount
