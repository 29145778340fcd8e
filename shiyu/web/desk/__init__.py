"""The case desk (issue 4, point 2): work queues and case detail with the workflow's actions; the search box
and the 辖区案件 list (issue 13)."""

from shiyu.web.desk import urgent
from shiyu.web.desk.area import router as area_router
from shiyu.web.desk.routes import router

router.include_router(area_router)
router.include_router(urgent.router)

__all__ = ["router"]
