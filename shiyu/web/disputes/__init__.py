"""Dispute pages (shiyu.disputes): the desk, a dispute, the workbench, the legal adviser's queue, the portal."""

from fastapi import APIRouter

from shiyu.web.disputes.portal import router as portal_router
from shiyu.web.disputes.routes import router as desk_router

router = APIRouter()
router.include_router(portal_router)
router.include_router(desk_router)
