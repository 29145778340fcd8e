"""The ``/api/v1`` router: one include per domain."""

from fastapi import APIRouter

from shiyu.org.identity.api import router as identity_router

api_router = APIRouter()
api_router.include_router(identity_router)
