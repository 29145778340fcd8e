"""Analysis pages (分析研判): the hot issues of the caller's area (Shiyu issue 5, item 4)."""

from shiyu.web.analysis.routes import router

__all__ = ["router"]
