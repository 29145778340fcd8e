"""Administration pages (issue 4, point 5): one router module per subject, mounted under ``/admin``."""

from fastapi import APIRouter

from shiyu.web.admin import (
    areas,
    audit,
    calendar,
    categories,
    outbox,
    routing,
    unit_import,
    units,
    user_import,
    users,
)

router = APIRouter(include_in_schema=False)
for _module in (areas, unit_import, units, categories, routing, calendar, user_import, users, audit, outbox):
    router.include_router(_module.router)
