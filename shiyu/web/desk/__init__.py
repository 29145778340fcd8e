"""The case desk (issue 4, point 2): work queues and case detail with the workflow's actions; the search box,
the 辖区案件 list and working a queue fast — keys, next case, live counts, batch 督办/催办 (issue 13)."""

from shiyu.web.desk import urgent, work
from shiyu.web.desk.area import router as area_router
from shiyu.web.desk.routes import router

router.include_router(area_router)
router.include_router(urgent.router)
router.include_router(work.router)

__all__ = ["router"]
