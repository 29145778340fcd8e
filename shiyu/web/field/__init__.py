"""The grid workers' field app (issue 4, point 3): an offline-first PWA under ``/field``."""

from shiyu.web.field.routes import router

__all__ = ["router"]
