"""The citizen portal (issue 4, point 4): report a problem, track it by code, evaluate the result."""

from shiyu.web.portal.routes import router

__all__ = ["router"]
