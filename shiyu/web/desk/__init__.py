"""The case desk (issue 4, point 2): work queues and case detail with the workflow's actions."""

from shiyu.web.desk import urgent
from shiyu.web.desk.routes import router

router.include_router(urgent.router)

__all__ = ["router"]
