"""Dispute pages (shiyu.disputes): the desk, a dispute, the workbench, the legal adviser's queue, the portal,
and the pool of mediation organisations and mediators."""

from fastapi import APIRouter

from shiyu.web.disputes.pool import router as pool_router
from shiyu.web.disputes.portal import router as portal_router
from shiyu.web.disputes.routes import router as desk_router

router = APIRouter()
router.include_router(portal_router)
router.include_router(pool_router)  # before the desk's /disputes/{dispute_id}, which "pool" would match
router.include_router(desk_router)
