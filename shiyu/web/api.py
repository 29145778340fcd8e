"""The ``/api/v1`` router: one include per domain."""

from fastapi import APIRouter

from shiyu.core.audit_api import router as audit_router
from shiyu.org.identity.api import router as identity_router
from shiyu.org.units.api import router as units_router

api_router = APIRouter()
api_router.include_router(identity_router)
api_router.include_router(units_router)
api_router.include_router(audit_router)
