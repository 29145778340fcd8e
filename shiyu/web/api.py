"""The ``/api/v1`` router: one include per domain."""

from fastapi import APIRouter

from shiyu.cases.api import router as cases_router
from shiyu.cases.categories.api import router as categories_router
from shiyu.cases.indicators.api import router as indicators_router
from shiyu.cases.routing.api import router as routing_router
from shiyu.cases.search_api import router as case_search_router
from shiyu.core.outbox_api import router as outbox_router
from shiyu.org.areas.api import router as areas_router
from shiyu.org.calendar.api import router as calendar_router
from shiyu.org.identity.api import router as identity_router
from shiyu.org.identity.audit_api import router as audit_router
from shiyu.org.units.api import router as units_router
from shiyu.patrol.api import router as patrol_router
from shiyu.triage.api import router as triage_router
from shiyu.triage.dup_api import router as duplicates_router
from shiyu.triage.hot_api import router as hot_issues_router

api_router = APIRouter()
# Routes are matched in order, one by one: the busiest endpoint (case intake) is tried first.
api_router.include_router(cases_router)
api_router.include_router(identity_router)
api_router.include_router(areas_router)
api_router.include_router(units_router)
api_router.include_router(audit_router)
api_router.include_router(outbox_router)
api_router.include_router(categories_router)
api_router.include_router(calendar_router)
api_router.include_router(routing_router)
api_router.include_router(case_search_router)
api_router.include_router(indicators_router)
api_router.include_router(patrol_router)
api_router.include_router(triage_router)
api_router.include_router(duplicates_router)
api_router.include_router(hot_issues_router)
