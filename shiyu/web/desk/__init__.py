"""The case desk (issue 4, point 2): work queues and case detail with the workflow's actions."""

from shiyu.web.desk.routes import router

__all__ = ["router"]
